//! `policy::lint`: every rule on a small policy (it fires, and does not fire on the fix), and
//! the two seed-shop examples.

use std::collections::BTreeMap;

use integritet_domain::policy::lint::{self, Finding, RULES, Severity};
use integritet_domain::policy::{self, SourceMap};

/// A small policy that passes every rule. Each test edits it into one that should not.
const BASE: &str = r#"
[controller]
name = "Exempel AB"
org_number = "556800-7610"
email = "dpo@exempel.se"
website = "https://exempel.se"
postal_address = { street = "Gatan 1", postal_code = "111 22", city = "Stockholm", country = "SE" }

[controller.supervisory_authority]
name = "Integritetsskyddsmyndigheten (IMY)"
website = "https://www.imy.se"

[data_subjects.customer]
label = { sv = "Kunder", en = "Customers" }
dpv = "dpv:Customer"
existing_customers = true

[data_subjects.visitor]
label = { sv = "Besökare", en = "Visitors" }
dpv = "dpv:Visitor"

[categories.name]
label = { sv = "Namn", en = "Name" }
dpv = "pd:Name"
kind = "person_name"

[categories.email]
label = { sv = "E-post", en = "E-mail" }
dpv = "pd:EmailAddress"
kind = "email"

[categories.personnummer]
label = { sv = "Personnummer", en = "Personal identity number" }
dpv = "pd:NationalIdentificationNumber"
kind = "identity_number"

[activities.purchase]
label = { sv = "ett köp", en = "a purchase" }

[purposes.orders]
label = { sv = "Köp", en = "Purchases" }
description = { sv = "Vi levererar det du köper.", en = "We deliver what you buy." }
dpv = "dpv:ServiceProvision"
legal_basis = "contract"
data_subjects = ["customer"]
categories = ["name", "email", "personnummer"]
retention = { rule = "after_last_activity", months = 36, activities = ["purchase"] }

[purposes.marketing]
label = { sv = "Marknadsföring", en = "Marketing" }
description = { sv = "Erbjudanden till kunder.", en = "Offers to customers." }
dpv = "dpv:DirectMarketing"
legal_basis = "legitimate_interest"
legitimate_interest = { sv = "Att marknadsföra liknande produkter till kunder.", en = "Marketing similar products to customers." }
data_subjects = ["customer"]
categories = ["name", "email"]
retention = { rule = "after_last_activity", months = 24, activities = ["purchase"] }
marketing_channels = ["post", "email"]

[purposes.newsletter]
label = { sv = "Nyhetsbrev", en = "Newsletter" }
description = { sv = "Nyhetsbrev till den som anmält sig.", en = "Newsletter to those who signed up." }
dpv = "dpv:Marketing"
legal_basis = "consent"
data_subjects = ["customer", "visitor"]
categories = ["email"]
retention = { rule = "until_consent_withdrawn" }
marketing_channels = ["email"]

[purposes.bookkeeping]
label = { sv = "Bokföring", en = "Bookkeeping" }
description = { sv = "Verifikationer.", en = "Accounting records." }
dpv = "dpv:LegalCompliance"
legal_basis = "legal_obligation"
law = "Bokföringslagen (1999:1078) 7 kap. 2 §"
data_subjects = ["customer"]
categories = ["name", "personnummer"]
retention = { rule = "bokforingslagen" }
storage = "archive"

[recipients.carrier]
label = { sv = "Transportörer", en = "Carriers" }
kind = "independent_controller"
dpv = "dpv:ThirdParty"
purposes = ["orders"]
categories = ["name"]

[roles.support]
label = { sv = "Kundtjänst", en = "Customer service" }
purposes = ["orders"]
handles_requests = true

[cookies]
consent = "opt_in"

[cookies.categories.necessary]
label = { sv = "Nödvändiga", en = "Necessary" }
description = { sv = "Varukorgen.", en = "The cart." }
strictly_necessary = true

[cookies.categories.statistics]
label = { sv = "Statistik", en = "Statistics" }
description = { sv = "Hur sidan används.", en = "How the site is used." }

[security]
measures = [{ sv = "Kryptering.", en = "Encryption." }]

[requests]
email = "dpo@exempel.se"
identity_verification = { sv = "BankID.", en = "BankID." }
response_channel = { sv = "E-post.", en = "E-mail." }

[requests.marketing_opt_out]
email = "dpo@exempel.se"
required_details = ["email"]
link_in_every_message = true
"#;

// ---------------------------------------------------------------------------------------------
// Helpers

/// `BASE` with `from` replaced by `to`; fails the test if `from` is not there (so a test never
/// silently checks the unedited base).
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the policy has no {from:?}");
    text.replacen(from, to, 1)
}

fn lint(text: &str) -> Vec<Finding> {
    let loaded = policy::parse("test.toml", text).unwrap_or_else(|e| panic!("{e}"));
    lint::check(&loaded)
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code).collect()
}

/// The findings with `code`; fails unless there is at least one.
fn only<'a>(findings: &'a [Finding], code: &str) -> Vec<&'a Finding> {
    let matching: Vec<&Finding> = findings.iter().filter(|f| f.code == code).collect();
    assert!(
        !matching.is_empty(),
        "expected {code}, got {:?}",
        codes(findings)
    );
    matching
}

/// Exactly one finding, with this code, severity and path.
fn single(findings: &[Finding], code: &str, severity: Severity, path: &str) -> Finding {
    assert_eq!(codes(findings), [code], "{findings:#?}");
    let finding = findings[0].clone();
    assert_eq!(finding.severity, severity, "{finding:?}");
    assert_eq!(finding.path, path, "{finding:?}");
    assert!(!finding.message.is_empty() && !finding.reference.is_empty());
    finding
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line contains {needle:?}"))
}

fn example(name: &str) -> (String, Vec<Finding>) {
    let path = format!(
        "{}/../../examples/seed-shop/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let findings = lint(&text);
    (text, findings)
}

fn render(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            format!(
                "{}: {}[{}] {}: {} ({})",
                f.line.map_or("-".to_owned(), |l| l.to_string()),
                f.severity,
                f.code,
                f.path,
                f.message,
                f.reference
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------------
// The base and the rule table

#[test]
fn base_policy_has_no_findings() {
    assert_eq!(lint(BASE), [], "{}", render(&lint(BASE)));
}

#[test]
fn rules_table_lists_every_code_once_with_a_reference() {
    let mut seen = std::collections::HashSet::new();
    for rule in RULES {
        assert!(seen.insert(rule.code), "{} twice", rule.code);
        assert!(!rule.reference.is_empty(), "{}", rule.code);
    }
    assert!(RULES.len() >= 35, "{}", RULES.len());
}

#[test]
fn finding_serialises_for_json_reports() {
    let text = edit(
        BASE,
        r#"consent = "opt_in""#,
        r#"consent = "implied_by_use""#,
    );
    let findings = lint(&text);
    let json = serde_json::to_value(&findings[0]).unwrap();
    assert_eq!(json["severity"], "error");
    assert_eq!(json["code"], "implied-cookie-consent");
    assert_eq!(json["path"], "cookies.consent");
    assert_eq!(json["line"], line_of(&text, "implied_by_use"));
    assert!(json["message"].as_str().unwrap().contains("opt_in"));
    assert!(json["reference"].as_str().unwrap().contains("9 kap. 28 §"));
}

#[test]
fn findings_come_in_file_order() {
    // Three problems, written bottom-up in rule order: the report follows the file.
    let text = edit(
        BASE,
        r#"consent = "opt_in""#,
        r#"consent = "implied_by_use""#,
    );
    let text = edit(
        &text,
        "org_number = \"556800-7610\"",
        "org_number = \"556800-7611\"",
    );
    let text = edit(&text, "dpv = \"dpv:ThirdParty\"", "dpv = \"ThirdParty\"");
    let findings = lint(&text);
    assert_eq!(
        codes(&findings),
        [
            "invalid-org-number",
            "malformed-dpv-term",
            "implied-cookie-consent"
        ]
    );
    let lines: Vec<usize> = findings.iter().map(|f| f.line.unwrap()).collect();
    assert!(lines.is_sorted(), "{lines:?}");
}

#[test]
fn policy_built_in_code_is_checked_without_lines() {
    let loaded = policy::parse(
        "t.toml",
        &edit(
            BASE,
            r#"consent = "opt_in""#,
            r#"consent = "implied_by_use""#,
        ),
    )
    .unwrap();
    let findings = lint::check_policy(&loaded.policy, &SourceMap::empty());
    assert_eq!(codes(&findings), ["implied-cookie-consent"]);
    assert_eq!(findings[0].line, None);
}

// ---------------------------------------------------------------------------------------------
// Legal basis and retention present

#[test]
fn purpose_without_legal_basis_is_an_error_at_the_purpose() {
    let text = edit(BASE, "legal_basis = \"contract\"\n", "");
    let finding = single(
        &lint(&text),
        "missing-legal-basis",
        Severity::Error,
        "purposes.orders.legal_basis",
    );
    // The key does not exist: the line is the purpose's own.
    assert_eq!(finding.line, Some(line_of(&text, "[purposes.orders]")));
    assert!(finding.reference.contains("Art. 6(1)"));
}

#[test]
fn purpose_without_retention_is_an_error() {
    let text = edit(
        BASE,
        "retention = { rule = \"after_last_activity\", months = 36, activities = [\"purchase\"] }\n",
        "",
    );
    let finding = single(
        &lint(&text),
        "missing-retention",
        Severity::Error,
        "purposes.orders.retention",
    );
    assert!(finding.reference.contains("Art. 5(1)(e)"));
}

// ---------------------------------------------------------------------------------------------
// Special categories and profiling

const HEALTH: &str = "[categories.health]\nlabel = { sv = \"Hälsa\", en = \"Health\" }\ndpv = \"pd:Health\"\nkind = \"free_text\"\nspecial = true\n\n[activities.purchase]";

#[test]
fn special_category_under_legitimate_interest_is_an_error() {
    let text = edit(BASE, "[activities.purchase]", HEALTH);
    let text = edit(
        &text,
        r#"categories = ["name", "email"]"#,
        r#"categories = ["name", "email", "health"]"#,
    );
    let finding = single(
        &lint(&text),
        "special-category-under-legitimate-interest",
        Severity::Error,
        "purposes.marketing.categories[2]",
    );
    assert!(finding.reference.contains("Art. 9"));
}

#[test]
fn special_category_under_another_basis_is_a_warning() {
    let text = edit(BASE, "[activities.purchase]", HEALTH);
    let text = edit(
        &text,
        r#"categories = ["email"]"#,
        r#"categories = ["email", "health"]"#,
    );
    single(
        &lint(&text),
        "special-category-needs-art9-condition",
        Severity::Warning,
        "purposes.newsletter.categories[1]",
    );
}

#[test]
fn profiling_under_legitimate_interest_is_an_error_but_not_under_consent() {
    let text = edit(
        BASE,
        "marketing_channels = [\"post\", \"email\"]",
        "marketing_channels = [\"post\", \"email\"]\nprofiling = true",
    );
    single(
        &lint(&text),
        "profiling-under-legitimate-interest",
        Severity::Error,
        "purposes.marketing.profiling",
    );
    let text = edit(
        BASE,
        "retention = { rule = \"until_consent_withdrawn\" }",
        "retention = { rule = \"until_consent_withdrawn\" }\nprofiling = true",
    );
    assert_eq!(lint(&text), []);
}

#[test]
fn personalisation_under_legitimate_interest_is_a_warning() {
    let text = edit(
        BASE,
        "marketing_channels = [\"post\", \"email\"]",
        "marketing_channels = [\"post\", \"email\"]\npersonalised_offers = true",
    );
    single(
        &lint(&text),
        "personalisation-under-legitimate-interest",
        Severity::Warning,
        "purposes.marketing.personalised_offers",
    );
}

#[test]
fn personalisation_or_profiling_under_contract_is_an_error_but_not_under_consent() {
    let text = edit(
        BASE,
        "activities = [\"purchase\"] }\n\n[purposes.marketing]",
        "activities = [\"purchase\"] }\npersonalised_offers = true\n\n[purposes.marketing]",
    );
    let finding = single(
        &lint(&text),
        "personalisation-under-contract",
        Severity::Error,
        "purposes.orders.personalised_offers",
    );
    assert!(finding.reference.contains("2/2019"));

    let text = edit(
        BASE,
        "activities = [\"purchase\"] }\n\n[purposes.marketing]",
        "activities = [\"purchase\"] }\nprofiling = true\n\n[purposes.marketing]",
    );
    single(
        &lint(&text),
        "profiling-under-contract",
        Severity::Error,
        "purposes.orders.profiling",
    );

    let text = edit(
        BASE,
        "retention = { rule = \"until_consent_withdrawn\" }",
        "retention = { rule = \"until_consent_withdrawn\" }\npersonalised_offers = true",
    );
    assert_eq!(lint(&text), []);
}

#[test]
fn improvement_or_fraud_prevention_under_contract_is_a_warning() {
    let text = edit(
        BASE,
        "dpv = \"dpv:ServiceProvision\"",
        "dpv = \"dpv:FraudPreventionAndDetection\"",
    );
    single(
        &lint(&text),
        "not-necessary-for-contract",
        Severity::Warning,
        "purposes.orders.legal_basis",
    );
}

#[test]
fn contract_basis_for_people_without_a_contract_is_a_warning() {
    let text = edit(
        BASE,
        "data_subjects = [\"customer\"]\ncategories = [\"name\", \"email\", \"personnummer\"]",
        "data_subjects = [\"customer\", \"visitor\"]\ncategories = [\"name\", \"email\", \"personnummer\"]",
    );
    let finding = single(
        &lint(&text),
        "contract-for-non-customers",
        Severity::Warning,
        "purposes.orders.data_subjects",
    );
    assert!(finding.message.contains("`visitor`"));
}

// ---------------------------------------------------------------------------------------------
// Marketing

#[test]
fn email_marketing_under_legitimate_interest_to_non_customers_is_an_error() {
    let text = edit(
        BASE,
        "data_subjects = [\"customer\"]\ncategories = [\"name\", \"email\"]",
        "data_subjects = [\"customer\", \"visitor\"]\ncategories = [\"name\", \"email\"]",
    );
    let finding = single(
        &lint(&text),
        "electronic-marketing-without-consent",
        Severity::Error,
        "purposes.marketing.data_subjects",
    );
    assert!(finding.message.contains("`visitor`"), "{}", finding.message);
    assert!(
        !finding.message.contains("`customer`"),
        "{}",
        finding.message
    );
    assert!(finding.reference.contains("2008:486) 19 §"));
}

#[test]
fn post_marketing_to_non_customers_and_consented_email_are_fine() {
    let text = edit(
        BASE,
        "data_subjects = [\"customer\"]\ncategories = [\"name\", \"email\"]",
        "data_subjects = [\"customer\", \"visitor\"]\ncategories = [\"name\", \"email\"]",
    );
    let text = edit(
        &text,
        "marketing_channels = [\"post\", \"email\"]",
        "marketing_channels = [\"post\"]",
    );
    assert_eq!(lint(&text), []);
    // The base's newsletter already e-mails visitors, under consent.
    assert!(
        BASE.contains("legal_basis = \"consent\"\ndata_subjects = [\"customer\", \"visitor\"]")
    );
}

#[test]
fn sms_counts_as_electronic() {
    let text = edit(
        BASE,
        "data_subjects = [\"customer\"]\ncategories = [\"name\", \"email\"]",
        "data_subjects = [\"visitor\"]\ncategories = [\"name\", \"email\"]",
    );
    let text = edit(
        &text,
        "marketing_channels = [\"post\", \"email\"]",
        "marketing_channels = [\"sms\"]",
    );
    let finding = single(
        &lint(&text),
        "electronic-marketing-without-consent",
        Severity::Error,
        "purposes.marketing.data_subjects",
    );
    assert!(finding.message.contains("SMS"));
}

#[test]
fn marketing_under_contract_is_an_error() {
    let text = edit(
        BASE,
        "legal_basis = \"legitimate_interest\"",
        "legal_basis = \"contract\"",
    );
    let text = edit(
        &text,
        "legitimate_interest = { sv = \"Att marknadsföra liknande produkter till kunder.\", en = \"Marketing similar products to customers.\" }\n",
        "",
    );
    single(
        &lint(&text),
        "marketing-under-wrong-basis",
        Severity::Error,
        "purposes.marketing.legal_basis",
    );
}

#[test]
fn personnummer_in_a_marketing_purpose_is_a_warning() {
    let text = edit(
        BASE,
        r#"categories = ["name", "email"]"#,
        r#"categories = ["name", "email", "personnummer"]"#,
    );
    let finding = single(
        &lint(&text),
        "identity-number-in-marketing",
        Severity::Warning,
        "purposes.marketing.categories[2]",
    );
    assert!(finding.reference.contains("2018:218"));
}

#[test]
fn electronic_marketing_without_unsubscribe_link_is_an_error() {
    let text = edit(
        BASE,
        "link_in_every_message = true",
        "link_in_every_message = false",
    );
    let finding = single(
        &lint(&text),
        "missing-unsubscribe-link",
        Severity::Error,
        "requests.marketing_opt_out.link_in_every_message",
    );
    assert!(finding.message.contains("`marketing`") && finding.message.contains("`newsletter`"));
    // Without any e-mail or SMS marketing, no link is needed.
    let text = edit(
        &text,
        "marketing_channels = [\"post\", \"email\"]",
        "marketing_channels = [\"post\"]",
    );
    let text = edit(
        &text,
        "retention = { rule = \"until_consent_withdrawn\" }\nmarketing_channels = [\"email\"]",
        "retention = { rule = \"until_consent_withdrawn\" }",
    );
    assert_eq!(lint(&text), []);
}

#[test]
fn personnummer_required_to_opt_out_is_a_warning() {
    let text = edit(
        BASE,
        "required_details = [\"email\"]",
        "required_details = [\"name\", \"personnummer\"]",
    );
    let finding = single(
        &lint(&text),
        "personnummer-for-opt-out",
        Severity::Warning,
        "requests.marketing_opt_out.required_details[1]",
    );
    assert!(finding.reference.contains("Art. 21(3)"));
    assert!(finding.reference.contains("Art. 12(2)"));
}

#[test]
fn opt_out_detail_naming_an_unknown_category_is_an_error() {
    let text = edit(
        BASE,
        "required_details = [\"email\"]",
        "required_details = [\"email\", \"adress\"]",
    );
    single(
        &lint(&text),
        "unknown-category",
        Severity::Error,
        "requests.marketing_opt_out.required_details[1]",
    );
}

// ---------------------------------------------------------------------------------------------
// Cookies

#[test]
fn cookie_consent_by_continued_use_is_an_error() {
    let text = edit(
        BASE,
        r#"consent = "opt_in""#,
        r#"consent = "implied_by_use""#,
    );
    let finding = single(
        &lint(&text),
        "implied-cookie-consent",
        Severity::Error,
        "cookies.consent",
    );
    assert!(
        finding.message.contains("(statistics)"),
        "{}",
        finding.message
    );
    assert!(finding.reference.contains("2022:482"));
    assert!(finding.reference.contains("05/2020"));
    assert!(finding.reference.contains("para. 86"));
}

// ---------------------------------------------------------------------------------------------
// Controller and contact details

#[test]
fn datainspektionen_is_a_warning_that_names_imy() {
    for name in [
        "Datainspektionen",
        "DATAINSPEKTIONEN (tillsynsmyndighet)",
        "datainspektionen",
    ] {
        let text = edit(
            BASE,
            "name = \"Integritetsskyddsmyndigheten (IMY)\"",
            &format!("name = {name:?}"),
        );
        let finding = single(
            &lint(&text),
            "outdated-authority-name",
            Severity::Warning,
            "controller.supervisory_authority.name",
        );
        assert!(
            finding
                .message
                .contains("Integritetsskyddsmyndigheten (IMY)")
        );
        assert!(finding.message.contains("https://www.imy.se"));
        assert!(finding.message.contains("1 January 2021"));
        assert!(finding.reference.contains("Art. 13(2)(d)"));
    }
    let text = edit(
        BASE,
        "website = \"https://www.imy.se\"",
        "website = \"https://www.datainspektionen.se\"",
    );
    single(
        &lint(&text),
        "outdated-authority-name",
        Severity::Warning,
        "controller.supervisory_authority.website",
    );
}

#[test]
fn invalid_org_number_is_an_error() {
    for bad in ["556800-7611", "5568007", "Rejoin AB", "19121212-1212x"] {
        let text = edit(
            BASE,
            "org_number = \"556800-7610\"",
            &format!("org_number = {bad:?}"),
        );
        let finding = single(
            &lint(&text),
            "invalid-org-number",
            Severity::Error,
            "controller.org_number",
        );
        assert_eq!(finding.line, Some(line_of(&text, "org_number")));
    }
    // A financial year begins in a month from 1 to 12.
    for (month, errors) in [(7, 0), (1, 0), (13, 1), (0, 1)] {
        let text = edit(
            BASE,
            "org_number = \"556800-7610\"",
            &format!("org_number = \"556800-7610\"\nfinancial_year_start_month = {month}"),
        );
        let findings = lint(&text);
        assert_eq!(findings.len(), errors, "{month}: {findings:?}");
        if errors > 0 {
            let finding = single(
                &findings,
                "invalid-financial-year",
                Severity::Error,
                "controller.financial_year_start_month",
            );
            assert_eq!(
                finding.line,
                Some(line_of(&text, "financial_year_start_month"))
            );
        }
    }
    // Long form and a sole trader's number (the owner's personnummer) are valid.
    for good in ["5568007610", "16556800-7610", "19121212-1212"] {
        let text = edit(
            BASE,
            "org_number = \"556800-7610\"",
            &format!("org_number = {good:?}"),
        );
        assert_eq!(lint(&text), [], "{good}");
    }
}

#[test]
fn contact_addresses_that_are_not_email_addresses_are_errors() {
    let text = edit(
        BASE,
        "email = \"dpo@exempel.se\"\nwebsite",
        "email = \"dpo(at)exempel.se\"\nwebsite",
    );
    single(
        &lint(&text),
        "invalid-email",
        Severity::Error,
        "controller.email",
    );
    let text = edit(
        BASE,
        "[requests]\nemail = \"dpo@exempel.se\"",
        "[requests]\nemail = \"dpo@exempel\"",
    );
    single(
        &lint(&text),
        "invalid-email",
        Severity::Error,
        "requests.email",
    );
    let text = edit(
        BASE,
        "[requests.marketing_opt_out]\nemail = \"dpo@exempel.se\"",
        "[requests.marketing_opt_out]\nemail = \"\"",
    );
    single(
        &lint(&text),
        "invalid-email",
        Severity::Error,
        "requests.marketing_opt_out.email",
    );
}

#[test]
fn website_without_https_is_a_warning() {
    let text = edit(
        BASE,
        "website = \"https://exempel.se\"",
        "website = \"http://exempel.se\"",
    );
    single(
        &lint(&text),
        "insecure-url",
        Severity::Warning,
        "controller.website",
    );
}

#[test]
fn malformed_dpv_terms_are_warnings() {
    for bad in ["Customer", "dpv:customer", "https://w3id.org/dpv#Customer"] {
        let text = edit(BASE, "dpv = \"dpv:Customer\"", &format!("dpv = {bad:?}"));
        single(
            &lint(&text),
            "malformed-dpv-term",
            Severity::Warning,
            "data_subjects.customer.dpv",
        );
    }
}

#[test]
fn empty_text_is_a_warning() {
    let text = edit(
        BASE,
        "label = { sv = \"Köp\", en = \"Purchases\" }",
        "label = { sv = \"Köp\", en = \" \" }",
    );
    let finding = single(
        &lint(&text),
        "empty-text",
        Severity::Warning,
        "purposes.orders.label",
    );
    assert!(finding.message.contains("en"));
}

#[test]
fn no_security_measures_is_a_warning() {
    let text = edit(
        BASE,
        "measures = [{ sv = \"Kryptering.\", en = \"Encryption.\" }]",
        "measures = []",
    );
    single(
        &lint(&text),
        "no-security-measures",
        Severity::Warning,
        "security.measures",
    );
}

// ---------------------------------------------------------------------------------------------
// Legal obligation and retention rules

#[test]
fn legal_obligation_without_law_is_a_warning() {
    let text = edit(
        BASE,
        "law = \"Bokföringslagen (1999:1078) 7 kap. 2 §\"\n",
        "",
    );
    let finding = single(
        &lint(&text),
        "legal-obligation-without-law",
        Severity::Warning,
        "purposes.bookkeeping.law",
    );
    assert!(finding.reference.contains("Art. 6(3)"));
}

#[test]
fn retention_as_the_law_requires_needs_the_law_and_a_period() {
    let base = edit(
        BASE,
        "retention = { rule = \"bokforingslagen\" }",
        "retention = { rule = \"as_required_by\" }",
    );
    let findings = lint(&base);
    assert_eq!(
        codes(&findings),
        ["unnamed-retention-law", "retention-period-unstated"]
    );
    assert_eq!(findings[0].path, "purposes.bookkeeping.retention.law");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert_eq!(findings[0].line, Some(line_of(&base, "as_required_by")));
    assert_eq!(findings[1].path, "purposes.bookkeeping.retention.months");

    let with_law = edit(
        &base,
        "rule = \"as_required_by\"",
        "rule = \"as_required_by\", law = \"Bokföringslagen (1999:1078) 7 kap. 2 §\"",
    );
    single(
        &lint(&with_law),
        "retention-period-unstated",
        Severity::Warning,
        "purposes.bookkeeping.retention.months",
    );
    let with_both = edit(&with_law, "7 kap. 2 §\" }", "7 kap. 2 §\", months = 84 }");
    assert_eq!(lint(&with_both), []);
}

#[test]
fn bookkeeping_retention_outside_legal_obligation_is_a_warning() {
    let text = edit(
        BASE,
        "retention = { rule = \"after_last_activity\", months = 36, activities = [\"purchase\"] }",
        "retention = { rule = \"bokforingslagen\" }",
    );
    let findings = lint(&text);
    // `purchase` now counts in no retention rule either.
    assert_eq!(
        codes(&findings),
        ["bookkeeping-retention-outside-legal-obligation"],
        "{}",
        render(&findings)
    );
    assert_eq!(findings[0].path, "purposes.orders.retention");
}

#[test]
fn until_consent_withdrawn_without_consent_is_an_error() {
    let text = edit(
        BASE,
        "retention = { rule = \"after_last_activity\", months = 24, activities = [\"purchase\"] }",
        "retention = { rule = \"until_consent_withdrawn\" }",
    );
    single(
        &lint(&text),
        "consent-retention-without-consent",
        Severity::Error,
        "purposes.marketing.retention",
    );
}

#[test]
fn archive_under_consent_or_legitimate_interest_is_a_warning() {
    let text = edit(
        BASE,
        "marketing_channels = [\"post\", \"email\"]",
        "marketing_channels = [\"post\", \"email\"]\nstorage = \"archive\"",
    );
    single(
        &lint(&text),
        "archive-under-consent-or-interest",
        Severity::Warning,
        "purposes.marketing.storage",
    );
    // The base archives its bookkeeping, under legal obligation: fine.
    assert!(BASE.contains("storage = \"archive\""));
}

#[test]
fn retention_after_activity_without_activities_is_a_warning() {
    let text = edit(
        BASE,
        "months = 24, activities = [\"purchase\"]",
        "months = 24, activities = []",
    );
    single(
        &lint(&text),
        "retention-without-activities",
        Severity::Warning,
        "purposes.marketing.retention.activities",
    );
}

#[test]
fn legitimate_interest_without_the_interest_is_a_warning() {
    let text = edit(
        BASE,
        "legitimate_interest = { sv = \"Att marknadsföra liknande produkter till kunder.\", en = \"Marketing similar products to customers.\" }\n",
        "",
    );
    single(
        &lint(&text),
        "legitimate-interest-not-stated",
        Severity::Warning,
        "purposes.marketing.legitimate_interest",
    );
}

// ---------------------------------------------------------------------------------------------
// References between sections

#[test]
fn role_with_unknown_purpose_is_an_error() {
    let text = edit(
        BASE,
        "purposes = [\"orders\"]\nhandles_requests = true\n\n[cookies]",
        "purposes = [\"orders\", \"ordrar\"]\nhandles_requests = true\n\n[cookies]",
    );
    let finding = single(
        &lint(&text),
        "unknown-purpose",
        Severity::Error,
        "roles.support.purposes[1]",
    );
    assert!(finding.message.contains("`ordrar`"));
}

#[test]
fn recipient_with_unknown_purpose_or_category_is_an_error() {
    let text = edit(
        BASE,
        "purposes = [\"orders\"]\ncategories = [\"name\"]",
        "purposes = [\"order\"]\ncategories = [\"name\", \"phone\"]",
    );
    let findings = lint(&text);
    assert_eq!(
        codes(&findings),
        [
            "unknown-purpose",
            "unknown-category",
            "recipient-category-outside-purposes"
        ],
        "{}",
        render(&findings)
    );
    assert_eq!(findings[0].path, "recipients.carrier.purposes[0]");
    assert_eq!(findings[1].path, "recipients.carrier.categories[1]");
    // `name` is outside the (unknown) purpose's categories.
    assert_eq!(findings[2].path, "recipients.carrier.categories[0]");
}

#[test]
fn recipient_category_outside_its_purposes_is_a_warning() {
    let text = edit(
        BASE,
        "purposes = [\"orders\"]\ncategories = [\"name\"]",
        "purposes = [\"newsletter\"]\ncategories = [\"email\", \"name\"]",
    );
    single(
        &lint(&text),
        "recipient-category-outside-purposes",
        Severity::Warning,
        "recipients.carrier.categories[1]",
    );
}

#[test]
fn purpose_with_unknown_category_data_subject_or_activity_is_an_error() {
    let text = edit(
        BASE,
        r#"categories = ["name", "email", "personnummer"]"#,
        r#"categories = ["name", "email", "personnummer", "telefon"]"#,
    );
    single(
        &lint(&text),
        "unknown-category",
        Severity::Error,
        "purposes.orders.categories[3]",
    );
    let text = edit(
        BASE,
        "data_subjects = [\"customer\"]\ncategories = [\"name\", \"email\", \"personnummer\"]",
        "data_subjects = [\"customers\"]\ncategories = [\"name\", \"email\", \"personnummer\"]",
    );
    single(
        &lint(&text),
        "unknown-data-subject",
        Severity::Error,
        "purposes.orders.data_subjects[0]",
    );
    let text = edit(
        BASE,
        "months = 36, activities = [\"purchase\"]",
        "months = 36, activities = [\"purchase\", \"login\"]",
    );
    single(
        &lint(&text),
        "unknown-activity",
        Severity::Error,
        "purposes.orders.retention.activities[1]",
    );
}

#[test]
fn duplicate_reference_is_a_warning() {
    let text = edit(
        BASE,
        r#"categories = ["name", "email", "personnummer"]"#,
        r#"categories = ["name", "email", "name", "personnummer"]"#,
    );
    single(
        &lint(&text),
        "duplicate-entry",
        Severity::Warning,
        "purposes.orders.categories[2]",
    );
}

#[test]
fn unused_category_activity_and_group_are_warnings() {
    let text = edit(
        BASE,
        "[activities.purchase]",
        "[categories.phone]\nlabel = { sv = \"Telefon\", en = \"Phone\" }\ndpv = \"pd:TelephoneNumber\"\nkind = \"phone\"\n\n[activities.purchase]",
    );
    let finding = single(
        &lint(&text),
        "unused-category",
        Severity::Warning,
        "categories.phone",
    );
    assert_eq!(finding.line, Some(line_of(&text, "[categories.phone]")));
    assert!(finding.reference.contains("Art. 5(1)(c)"));

    let text = edit(
        BASE,
        "[activities.purchase]",
        "[activities.login]\nlabel = { sv = \"inloggning\", en = \"log-in\" }\n\n[activities.purchase]",
    );
    single(
        &lint(&text),
        "unused-activity",
        Severity::Warning,
        "activities.login",
    );

    let text = edit(
        BASE,
        "[categories.name]",
        "[data_subjects.supplier]\nlabel = { sv = \"Leverantörer\", en = \"Suppliers\" }\ndpv = \"dpv:DataSubject\"\n\n[categories.name]",
    );
    single(
        &lint(&text),
        "unused-data-subject-group",
        Severity::Warning,
        "data_subjects.supplier",
    );
}

#[test]
fn purpose_without_categories_or_data_subjects_is_a_warning() {
    let text = edit(
        BASE,
        "[purposes.bookkeeping]",
        "[purposes.empty]\nlabel = { sv = \"Tom\", en = \"Empty\" }\ndescription = { sv = \"Inget.\", en = \"Nothing.\" }\ndpv = \"dpv:LegalCompliance\"\nlegal_basis = \"legal_obligation\"\nlaw = \"Lag\"\ndata_subjects = []\ncategories = []\nretention = { rule = \"fixed_period\", months = 1 }\n\n[purposes.bookkeeping]",
    );
    let findings = lint(&text);
    assert_eq!(
        codes(&findings),
        [
            "purpose-without-data-subjects",
            "purpose-without-categories"
        ],
        "{}",
        render(&findings)
    );
}

// ---------------------------------------------------------------------------------------------
// The seed shop

#[test]
fn as_published_seed_policy_has_the_expected_findings() {
    let (text, findings) = example("policy-as-published.toml");
    println!("{}", render(&findings));

    let mut by_code: BTreeMap<(&str, Severity), usize> = BTreeMap::new();
    for f in &findings {
        *by_code.entry((f.code, f.severity)).or_default() += 1;
    }
    let expected: BTreeMap<(&str, Severity), usize> = [
        (("implied-cookie-consent", Severity::Error), 1),
        (("personalisation-under-contract", Severity::Error), 1),
        (("electronic-marketing-without-consent", Severity::Error), 2),
        (("outdated-authority-name", Severity::Warning), 1),
        (("unnamed-retention-law", Severity::Warning), 1),
        (("retention-period-unstated", Severity::Warning), 1),
        (("legal-obligation-without-law", Severity::Warning), 1),
        (("personnummer-for-opt-out", Severity::Warning), 1),
        (
            (
                "personalisation-under-legitimate-interest",
                Severity::Warning,
            ),
            1,
        ),
        (("not-necessary-for-contract", Severity::Warning), 1),
        (("contract-for-non-customers", Severity::Warning), 1),
        (("legitimate-interest-not-stated", Severity::Warning), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(by_code, expected, "{}", render(&findings));
    assert_eq!(lint::count(&findings, Severity::Error), 4);
    assert_eq!(lint::count(&findings, Severity::Warning), 9);

    // Every finding points at the line that says it.
    let at = |code: &str| only(&findings, code)[0].line.unwrap();
    assert_eq!(
        at("implied-cookie-consent"),
        line_of(&text, "consent = \"implied_by_use\"")
    );
    assert_eq!(
        at("outdated-authority-name"),
        line_of(&text, "name = \"Datainspektionen\"")
    );
    assert_eq!(
        at("personalisation-under-contract"),
        line_of(&text, "personalised_offers = true")
    );
    assert_eq!(
        at("unnamed-retention-law"),
        line_of(&text, "rule = \"as_required_by\"")
    );
    assert_eq!(
        at("personnummer-for-opt-out"),
        line_of(&text, "required_details = ")
    );
    assert_eq!(
        at("legal-obligation-without-law"),
        line_of(&text, "[purposes.legal_compliance]")
    );
    let marketing = only(&findings, "electronic-marketing-without-consent");
    assert_eq!(marketing[0].path, "purposes.direct_marketing.data_subjects");
    assert_eq!(marketing[1].path, "purposes.newsletter.data_subjects");

    let lines: Vec<usize> = findings.iter().map(|f| f.line.unwrap()).collect();
    assert!(lines.is_sorted(), "{lines:?}");
    insta::assert_snapshot!("as_published_findings", render(&findings));
}

#[test]
fn corrected_seed_policy_has_no_findings() {
    let (_, findings) = example("policy.toml");
    println!("{}", render(&findings));
    let warnings: Vec<&str> = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .map(|f| f.code)
        .collect();
    assert_eq!(
        lint::count(&findings, Severity::Error),
        0,
        "{}",
        render(&findings)
    );
    assert_eq!(warnings, Vec::<&str>::new(), "{}", render(&findings));
}

#[test]
fn every_code_found_is_in_the_rules_table() {
    let (_, findings) = example("policy-as-published.toml");
    for finding in findings {
        let rule = RULES.iter().find(|r| r.code == finding.code).unwrap();
        assert_eq!(rule.severity, finding.severity);
        assert_eq!(rule.reference, finding.reference);
    }
}

#[test]
fn roles_need_a_request_handler_and_admin_is_reserved() {
    let text = edit(BASE, "handles_requests = true\n", "");
    assert_eq!(codes(&lint(&text)), ["no-request-handler"]);
    let text = edit(BASE, "[roles.support]", "[roles.admin]");
    assert_eq!(codes(&lint(&text)), ["reserved-role-name"]);
}
