//! Checks that hold a policy to the law: what `integritet policy check` reports.
//!
//! Every [`Finding`] carries a stable code (never renamed; scripts and CI may match on it), the
//! dotted key path it is about with the line of that key, what is wrong and what to do, and
//! the legal reference. [`RULES`] lists every rule with its severity and reference.
//!
//! The checks read only the policy: no clock, no IO. A policy is checked the same on every
//! day, so the findings of one file never change unless the file does.

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;
use time::Date;
use time::macros::date;

use super::{
    CookieConsent, LegalBasis, LoadedPolicy, MarketingChannel, Policy, Purpose, Retention,
    SourceMap, Storage, Text, ValueKind,
};
use crate::identity::Organisationsnummer;

/// How bad a finding is. Errors make `policy check` fail; warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The policy promises or does something unlawful, or is inconsistent.
    Error,
    /// Lawful perhaps, but weak: a DPO should look at it.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check: its stable code, severity and legal reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable, kebab-case.
    pub code: &'static str,
    pub severity: Severity,
    /// The law, article or guideline the rule rests on.
    pub reference: &'static str,
    /// One line: what the rule looks for.
    pub summary: &'static str,
}

/// Something the check found in a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// The rule's stable code, e.g. `implied-cookie-consent`.
    pub code: &'static str,
    /// Dotted key path, e.g. `cookies.consent` or `purposes.marketing.categories[2]`.
    pub path: String,
    /// 1-based line of the key (or of the nearest enclosing key that exists), when the policy
    /// came from a file.
    pub line: Option<usize>,
    /// What is wrong and what to do, in English.
    pub message: String,
    /// Legal reference.
    pub reference: &'static str,
}

impl Finding {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// How many findings have the given severity.
pub fn count(findings: &[Finding], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity == severity).count()
}

/// Checks a policy read from a file. Findings come in file order (by line; findings on the
/// same line in the order the rules run).
pub fn check(loaded: &LoadedPolicy) -> Vec<Finding> {
    check_policy(&loaded.policy, &loaded.source)
}

/// Checks a policy; `source` locates keys (use [`SourceMap::empty`] for a policy built in
/// code: findings then have no line and come in rule order).
pub fn check_policy(policy: &Policy, source: &SourceMap) -> Vec<Finding> {
    let mut linter = Linter {
        policy,
        source,
        findings: Vec::new(),
    };
    linter.controller();
    linter.data_subjects();
    linter.categories();
    linter.activities();
    for (key, purpose) in &policy.purposes {
        linter.purpose(key, purpose);
    }
    linter.recipients();
    linter.roles();
    linter.cookies();
    linter.security();
    linter.requests();
    let mut findings = linter.findings;
    // Stable: findings on one line keep the order the rules ran in.
    findings.sort_by_key(|f| f.line.unwrap_or(usize::MAX));
    findings
}

// ---------------------------------------------------------------------------------------------
// The rules

macro_rules! rules {
    ($($name:ident = $code:literal, $severity:ident, $reference:literal, $summary:literal;)*) => {
        $(const $name: Rule = Rule {
            code: $code,
            severity: Severity::$severity,
            reference: $reference,
            summary: $summary,
        };)*
        /// Every rule `check` applies, in the order they are documented.
        pub const RULES: &[Rule] = &[$($name),*];
    };
}

rules! {
    INVALID_ORG_NUMBER = "invalid-org-number", Error, "GDPR Art. 13(1)(a)",
        "controller.org_number is not a valid Swedish organisationsnummer";
    INVALID_FINANCIAL_YEAR = "invalid-financial-year", Error, "Bokföringslagen (1999:1078) 3 kap. 1 §, 7 kap. 2 §",
        "controller.financial_year_start_month is not a month from 1 to 12";
    INVALID_EMAIL = "invalid-email", Error, "GDPR Art. 12(2), Art. 13(1)(a)-(b)",
        "a contact e-mail address does not look like an e-mail address";
    INSECURE_URL = "insecure-url", Warning, "GDPR Art. 5(1)(f), Art. 32(1)(a)",
        "the controller's website or privacy portal is not an https:// address";
    OUTDATED_AUTHORITY_NAME = "outdated-authority-name", Warning, "GDPR Art. 13(2)(d), Art. 77",
        "the supervisory authority is called Datainspektionen, which is IMY since 1 January 2021";
    MALFORMED_DPV_TERM = "malformed-dpv-term", Warning, "W3C Data Privacy Vocabulary (DPV), prefixed terms",
        "a DPV term is not of the form `prefix:Term`";
    EMPTY_TEXT = "empty-text", Warning, "GDPR Art. 12(1)",
        "a text a person reads is empty in Swedish or English";
    UNUSED_DATA_SUBJECT_GROUP = "unused-data-subject-group", Warning, "GDPR Art. 30(1)(c)",
        "a data subject group no purpose processes";
    UNUSED_CATEGORY = "unused-category", Warning, "GDPR Art. 5(1)(c), Art. 13(1)(c)",
        "a data category no purpose uses";
    UNUSED_ACTIVITY = "unused-activity", Warning, "GDPR Art. 5(1)(e), Art. 13(2)(a)",
        "an activity no retention rule counts";
    UNKNOWN_DATA_SUBJECT = "unknown-data-subject", Error, "GDPR Art. 5(2), Art. 30(1)(c)",
        "a reference to a data subject group that is not declared";
    UNKNOWN_CATEGORY = "unknown-category", Error, "GDPR Art. 5(2), Art. 30(1)(c)",
        "a reference to a data category that is not declared";
    UNKNOWN_ACTIVITY = "unknown-activity", Error, "GDPR Art. 5(2), Art. 5(1)(e)",
        "a retention rule counts an activity that is not declared";
    UNKNOWN_PURPOSE = "unknown-purpose", Error, "GDPR Art. 5(1)(b), Art. 5(2)",
        "a role or recipient refers to a purpose that is not declared";
    DUPLICATE_ENTRY = "duplicate-entry", Warning, "GDPR Art. 12(1)",
        "the same entry is listed twice";
    PURPOSE_WITHOUT_DATA_SUBJECTS = "purpose-without-data-subjects", Warning, "GDPR Art. 30(1)(c)",
        "a purpose names no data subject group";
    PURPOSE_WITHOUT_CATEGORIES = "purpose-without-categories", Warning, "GDPR Art. 30(1)(c), Art. 13(1)(c)",
        "a purpose names no data category";
    MISSING_LEGAL_BASIS = "missing-legal-basis", Error, "GDPR Art. 6(1), Art. 13(1)(c)",
        "a purpose has no legal basis";
    MISSING_RETENTION = "missing-retention", Error, "GDPR Art. 5(1)(e), Art. 13(2)(a)",
        "a purpose has no retention rule";
    SPECIAL_CATEGORY_UNDER_LEGITIMATE_INTEREST = "special-category-under-legitimate-interest", Error, "GDPR Art. 9(1)-(2)",
        "special-category data processed under legitimate interest, which is no Art. 9(2) condition";
    SPECIAL_CATEGORY_NEEDS_CONDITION = "special-category-needs-art9-condition", Warning, "GDPR Art. 9(2), Art. 10",
        "special-category data needs an Art. 9(2) condition besides the Art. 6 basis";
    PROFILING_UNDER_LEGITIMATE_INTEREST = "profiling-under-legitimate-interest", Error, "GDPR Art. 4(4), Art. 21(1)-(2), Art. 22",
        "profiling under legitimate interest (the seed policy promises none)";
    PERSONALISATION_UNDER_LEGITIMATE_INTEREST = "personalisation-under-legitimate-interest", Warning, "GDPR Art. 4(4), Art. 21(2)",
        "offers tailored from behaviour under legitimate interest are usually profiling";
    PERSONALISATION_UNDER_CONTRACT = "personalisation-under-contract", Error, "GDPR Art. 6(1)(b); EDPB Guidelines 2/2019 on Art. 6(1)(b), paras. 52 and 57",
        "personalised offers based on the contract, which they are not necessary for";
    PROFILING_UNDER_CONTRACT = "profiling-under-contract", Error, "GDPR Art. 6(1)(b); EDPB Guidelines 2/2019 on Art. 6(1)(b), paras. 52 and 57",
        "profiling based on the contract, which it is not necessary for";
    CONTRACT_FOR_NON_CUSTOMERS = "contract-for-non-customers", Warning, "GDPR Art. 6(1)(b)",
        "a purpose based on the contract reaches people who have no contract with the controller";
    NOT_NECESSARY_FOR_CONTRACT = "not-necessary-for-contract", Warning, "GDPR Art. 6(1)(b); EDPB Guidelines 2/2019 on Art. 6(1)(b), paras. 48-50",
        "service improvement or fraud prevention based on the contract";
    MARKETING_UNDER_WRONG_BASIS = "marketing-under-wrong-basis", Error, "GDPR Art. 6(1), Recital 47, Art. 21(2)-(3)",
        "direct marketing based on something other than consent or legitimate interest";
    ELECTRONIC_MARKETING_WITHOUT_CONSENT = "electronic-marketing-without-consent", Error, "Marknadsföringslagen (2008:486) 19 §",
        "e-mail or SMS marketing under legitimate interest reaches people who are not existing customers";
    IDENTITY_NUMBER_IN_MARKETING = "identity-number-in-marketing", Warning, "Dataskyddslagen (2018:218) 3 kap. 10 §; GDPR Art. 5(1)(c), Art. 87",
        "a marketing purpose uses personnummer";
    LEGITIMATE_INTEREST_NOT_STATED = "legitimate-interest-not-stated", Warning, "GDPR Art. 13(1)(d)",
        "a purpose under legitimate interest does not say which interest";
    LEGAL_OBLIGATION_WITHOUT_LAW = "legal-obligation-without-law", Warning, "GDPR Art. 6(1)(c), Art. 6(3)",
        "a purpose under legal obligation does not name the law";
    UNNAMED_RETENTION_LAW = "unnamed-retention-law", Warning, "GDPR Art. 13(2)(a), Art. 5(1)(e)",
        "retention \"as the law requires\" without naming the law";
    RETENTION_PERIOD_UNSTATED = "retention-period-unstated", Warning, "GDPR Art. 13(2)(a)",
        "retention \"as the law requires\" without a period";
    RETENTION_WITHOUT_ACTIVITIES = "retention-without-activities", Warning, "GDPR Art. 5(1)(e), Art. 13(2)(a)",
        "retention after last activity that names no activity";
    BOOKKEEPING_RETENTION_OUTSIDE_LEGAL_OBLIGATION = "bookkeeping-retention-outside-legal-obligation", Warning, "GDPR Art. 5(1)(b), (e); Bokföringslagen (1999:1078) 7 kap. 2 §",
        "Bokföringslagen retention on a purpose whose basis is not legal obligation";
    CONSENT_RETENTION_WITHOUT_CONSENT = "consent-retention-without-consent", Error, "GDPR Art. 5(1)(e), Art. 7(3)",
        "retention until consent is withdrawn on a purpose not based on consent";
    ARCHIVE_UNDER_CONSENT_OR_INTEREST = "archive-under-consent-or-interest", Warning, "GDPR Art. 7(3), Art. 17(1)(b)-(c), Art. 21",
        "data under consent or legitimate interest kept in the archive, out of reach of withdrawal, erasure and objection";
    RECIPIENT_CATEGORY_OUTSIDE_PURPOSES = "recipient-category-outside-purposes", Warning, "GDPR Art. 5(1)(b)-(c), Art. 13(1)(e)",
        "a recipient gets a category that none of its purposes uses";
    IMPLIED_COOKIE_CONSENT = "implied-cookie-consent", Error, "Lag (2022:482) om elektronisk kommunikation 9 kap. 28 §; GDPR Art. 4(11), Art. 7; EDPB Guidelines 05/2020 on consent, para. 86",
        "cookie consent by continued use of the site";
    NO_SECURITY_MEASURES = "no-security-measures", Warning, "GDPR Art. 30(1)(g), Art. 32",
        "the policy names no security measures";
    PERSONNUMMER_FOR_OPT_OUT = "personnummer-for-opt-out", Warning, "GDPR Art. 12(2), Art. 21(3), Art. 5(1)(c); Dataskyddslagen (2018:218) 3 kap. 10 §",
        "opting out of direct marketing requires an identity number";
    MISSING_UNSUBSCRIBE_LINK = "missing-unsubscribe-link", Error, "Marknadsföringslagen (2008:486) 19 och 20 §§; GDPR Art. 21(3)-(4)",
        "electronic marketing without an unsubscribe link in every message";
    RESERVED_ROLE_NAME = "reserved-role-name", Error, "GDPR Art. 5(1)(f), Art. 32(1)(b)",
        "a role is named `admin`, the reserved name of the administrator, who holds no purpose";
    NO_REQUEST_HANDLER = "no-request-handler", Warning, "GDPR Art. 12(2)-(3), Art. 15-21",
        "roles are defined but none handles data subjects' requests";
}

/// The reference date for reading the controller's organisationsnummer. It only decides the
/// century of a sole trader's 10-digit number, which cannot change whether it is valid except
/// for 29 February; fixed so that a policy's findings do not depend on the day it is checked.
const ORG_NUMBER_REFERENCE: Date = date!(2025 - 01 - 01);

/// DPV purposes the EDPB finds, as a rule, not necessary for a contract (Guidelines 2/2019,
/// sections 3.1 and 3.2).
const NOT_CONTRACT_PURPOSES: &[&str] = &[
    "dpv:ServiceOptimisation",
    "dpv:OptimisationForController",
    "dpv:ImproveExistingProductsAndServices",
    "dpv:ImproveInternalCRMProcesses",
    "dpv:ResearchAndDevelopment",
    "dpv:CommercialResearch",
    "dpv:ProductDevelopment",
    "dpv:FraudPreventionAndDetection",
];

/// DPV purposes that are marketing, whatever channel the policy names.
const MARKETING_PURPOSES: &[&str] = &[
    "dpv:Marketing",
    "dpv:DirectMarketing",
    "dpv:Advertising",
    "dpv:PersonalisedAdvertising",
    "dpv:TargetedAdvertising",
];

// ---------------------------------------------------------------------------------------------
// Key paths

#[derive(Debug, Clone)]
enum Segment {
    Key(String),
    Index(usize),
}

/// Where in the file a finding is, as path segments.
#[derive(Debug, Clone)]
struct KeyPath(Vec<Segment>);

fn at(keys: &[&str]) -> KeyPath {
    KeyPath(keys.iter().map(|k| Segment::Key((*k).to_owned())).collect())
}

impl KeyPath {
    fn key(mut self, key: &str) -> KeyPath {
        self.0.push(Segment::Key(key.to_owned()));
        self
    }

    fn index(mut self, index: usize) -> KeyPath {
        self.0.push(Segment::Index(index));
        self
    }

    /// `purposes.marketing.categories[2]`; keys that are not bare TOML keys are quoted.
    fn render(&self) -> String {
        let mut out = String::new();
        for segment in &self.0 {
            match segment {
                Segment::Key(key) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    let bare = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if bare {
                        out.push_str(key);
                    } else {
                        out.push_str(&format!("{key:?}"));
                    }
                }
                Segment::Index(index) => out.push_str(&format!("[{index}]")),
            }
        }
        out
    }

    fn line(&self, source: &SourceMap) -> Option<usize> {
        let owned: Vec<String> = self
            .0
            .iter()
            .map(|s| match s {
                Segment::Key(key) => key.clone(),
                Segment::Index(index) => index.to_string(),
            })
            .collect();
        let parts: Vec<&str> = owned.iter().map(String::as_str).collect();
        // A finding about a missing key (no `legal_basis`, no `law`) points at the nearest
        // enclosing key that exists.
        (1..=parts.len())
            .rev()
            .find_map(|len| source.line_of_path(&parts[..len]))
    }
}

// ---------------------------------------------------------------------------------------------
// The checks

struct Linter<'a> {
    policy: &'a Policy,
    source: &'a SourceMap,
    findings: Vec<Finding>,
}

impl Linter<'_> {
    fn report(&mut self, rule: Rule, path: KeyPath, message: String) {
        let line = path.line(self.source);
        self.findings.push(Finding {
            severity: rule.severity,
            code: rule.code,
            path: path.render(),
            line,
            message,
            reference: rule.reference,
        });
    }

    fn controller(&mut self) {
        let controller = &self.policy.controller;
        if let Err(error) = Organisationsnummer::parse(&controller.org_number, ORG_NUMBER_REFERENCE)
        {
            self.report(
                INVALID_ORG_NUMBER,
                at(&["controller", "org_number"]),
                format!(
                    "`{}` is not a valid organisationsnummer: {error}. Give the controller's number as registered with Bolagsverket (NNNNNN-NNNN).",
                    controller.org_number
                ),
            );
        }
        if let Some(month) = controller
            .financial_year_start_month
            .filter(|month| !(1..=12).contains(month))
        {
            self.report(
                INVALID_FINANCIAL_YEAR,
                at(&["controller", "financial_year_start_month"]),
                format!(
                    "{month} is no month: give the month the financial year begins in, 1 to 12 \
                     (7 for a year from 1 July), or leave it out for the calendar year."
                ),
            );
        }
        self.email(&controller.email, at(&["controller", "email"]));
        self.https(&controller.website, at(&["controller", "website"]));
        if let Some(dpo) = &controller.dpo {
            self.email(&dpo.email, at(&["controller", "dpo", "email"]));
        }
        let authority = &controller.supervisory_authority;
        let old_name = authority.name.to_lowercase().contains("datainspektionen");
        let old_site = authority
            .website
            .to_lowercase()
            .contains("datainspektionen.se");
        if old_name || old_site {
            let field = if old_name { "name" } else { "website" };
            self.report(
                OUTDATED_AUTHORITY_NAME,
                at(&["controller", "supervisory_authority", field]),
                "Datainspektionen is called Integritetsskyddsmyndigheten (IMY) since 1 January 2021; the notice must name the authority a person can complain to as it is called today. Set name = \"Integritetsskyddsmyndigheten (IMY)\" and website = \"https://www.imy.se\".".to_owned(),
            );
        }
        if let Some(email) = &authority.email {
            self.email(email, at(&["controller", "supervisory_authority", "email"]));
        }
    }

    fn data_subjects(&mut self) {
        let used: HashSet<&str> = self
            .policy
            .purposes
            .values()
            .flat_map(|p| p.data_subjects.iter().map(String::as_str))
            .collect();
        for (key, group) in &self.policy.data_subjects {
            let path = at(&["data_subjects", key]);
            self.text(&group.label, path.clone().key("label"));
            self.dpv(&group.dpv, path.clone().key("dpv"));
            if !used.contains(key.as_str()) {
                self.report(
                    UNUSED_DATA_SUBJECT_GROUP,
                    path,
                    format!(
                        "No purpose processes data about the group `{key}`. Add it to the `data_subjects` of the purposes that concern it, or remove it."
                    ),
                );
            }
        }
    }

    fn categories(&mut self) {
        let used: HashSet<&str> = self
            .policy
            .purposes
            .values()
            .flat_map(|p| p.categories.iter().map(String::as_str))
            .collect();
        for (key, category) in &self.policy.categories {
            let path = at(&["categories", key]);
            self.text(&category.label, path.clone().key("label"));
            self.dpv(&category.dpv, path.clone().key("dpv"));
            if !used.contains(key.as_str()) {
                self.report(
                    UNUSED_CATEGORY,
                    path,
                    format!(
                        "No purpose uses the category `{key}`: data without a purpose must not be collected (data minimisation). Add it to the purposes that need it, or remove it."
                    ),
                );
            }
        }
    }

    fn activities(&mut self) {
        let used: HashSet<&str> = self
            .policy
            .purposes
            .values()
            .filter_map(|p| match &p.retention {
                Some(Retention::AfterLastActivity { activities, .. }) => Some(activities),
                _ => None,
            })
            .flatten()
            .map(String::as_str)
            .collect();
        for (key, activity) in &self.policy.activities {
            let path = at(&["activities", key]);
            self.text(&activity.label, path.clone().key("label"));
            if !used.contains(key.as_str()) {
                self.report(
                    UNUSED_ACTIVITY,
                    path,
                    format!(
                        "No retention rule counts the activity `{key}`, so it moves no clock. Name it in the `activities` of an `after_last_activity` rule, or remove it."
                    ),
                );
            }
        }
    }

    fn purpose(&mut self, key: &str, purpose: &Purpose) {
        let path = at(&["purposes", key]);
        self.text(&purpose.label, path.clone().key("label"));
        self.text(&purpose.description, path.clone().key("description"));
        self.dpv(&purpose.dpv, path.clone().key("dpv"));

        let policy = self.policy;
        self.references(
            &purpose.data_subjects,
            path.clone().key("data_subjects"),
            |k| policy.data_subjects.contains_key(k),
            UNKNOWN_DATA_SUBJECT,
            "data subject group",
            "[data_subjects]",
        );
        if purpose.data_subjects.is_empty() {
            self.report(
                PURPOSE_WITHOUT_DATA_SUBJECTS,
                path.clone().key("data_subjects"),
                format!(
                    "Purpose `{key}` names no data subject group: say whose data it processes."
                ),
            );
        }
        self.references(
            &purpose.categories,
            path.clone().key("categories"),
            |k| policy.categories.contains_key(k),
            UNKNOWN_CATEGORY,
            "category",
            "[categories]",
        );
        if purpose.categories.is_empty() {
            self.report(
                PURPOSE_WITHOUT_CATEGORIES,
                path.clone().key("categories"),
                format!("Purpose `{key}` names no data category: say which data it processes."),
            );
        }

        match purpose.legal_basis {
            None => self.report(
                MISSING_LEGAL_BASIS,
                path.clone().key("legal_basis"),
                format!(
                    "Purpose `{key}` has no legal basis. Every processing needs exactly one of: {}.",
                    LegalBasis::ALL.map(LegalBasis::as_str).join(", ")
                ),
            ),
            Some(basis) => self.basis_rules(key, purpose, basis),
        }

        match &purpose.retention {
            None => self.report(
                MISSING_RETENTION,
                path.clone().key("retention"),
                format!(
                    "Purpose `{key}` has no retention rule: the notice must say how long the data is kept. Add e.g. retention = {{ rule = \"after_last_activity\", months = 36, activities = [\"purchase\"] }}."
                ),
            ),
            Some(retention) => self.retention_rules(key, purpose, retention),
        }

        // Personnummer may be processed without consent only where clearly justified; direct
        // marketing never needs it.
        if is_marketing(purpose) {
            for (index, category) in purpose.categories.iter().enumerate() {
                if self.kind_of(category) == Some(ValueKind::IdentityNumber) {
                    self.report(
                        IDENTITY_NUMBER_IN_MARKETING,
                        path.clone().key("categories").index(index),
                        format!(
                            "Marketing purpose `{key}` uses `{category}`, an identity number. A personnummer may be used without consent only when clearly justified by the purpose or by secure identification; marketing needs neither. Remove it from this purpose."
                        ),
                    );
                }
            }
        }
    }

    /// Rules that depend on the purpose's legal basis.
    fn basis_rules(&mut self, key: &str, purpose: &Purpose, basis: LegalBasis) {
        let path = at(&["purposes", key]);
        let policy = self.policy;

        for (index, category) in purpose.categories.iter().enumerate() {
            let special = policy.categories.get(category).is_some_and(|c| c.special);
            if !special {
                continue;
            }
            let category_path = path.clone().key("categories").index(index);
            if basis == LegalBasis::LegitimateInterest {
                self.report(
                    SPECIAL_CATEGORY_UNDER_LEGITIMATE_INTEREST,
                    category_path,
                    format!(
                        "Purpose `{key}` processes the special category `{category}` under legitimate interest. Legitimate interest is never a condition of Art. 9(2). Remove the category, or base the purpose on explicit consent."
                    ),
                );
            } else {
                self.report(
                    SPECIAL_CATEGORY_NEEDS_CONDITION,
                    category_path,
                    format!(
                        "Purpose `{key}` processes the special category `{category}`: besides the Art. 6 basis ({}) it needs a condition of Art. 9(2) (e.g. explicit consent) or, for criminal-offence data, Art. 10. Make sure one applies and say which in the description.",
                        basis.as_str()
                    ),
                );
            }
        }

        match basis {
            LegalBasis::LegitimateInterest => {
                if purpose.profiling {
                    self.report(
                        PROFILING_UNDER_LEGITIMATE_INTEREST,
                        path.clone().key("profiling"),
                        format!(
                            "Purpose `{key}` profiles people under legitimate interest. Anyone may object to that at any time, and a notice that promises no such profiling (as the seed shop's does) would be untrue. Stop the profiling, or base it on consent."
                        ),
                    );
                } else if purpose.personalised_offers {
                    self.report(
                        PERSONALISATION_UNDER_LEGITIMATE_INTEREST,
                        path.clone().key("personalised_offers"),
                        format!(
                            "Purpose `{key}` tailors offers from behaviour under legitimate interest. Evaluating a person's preferences or behaviour is profiling (Art. 4(4)), which many notices (the seed shop's among them) promise not to do under legitimate interest. Base the tailoring on consent, or tailor only to what the person chose."
                        ),
                    );
                }
                let stated = purpose
                    .legitimate_interest
                    .as_ref()
                    .is_some_and(|t| !t.sv.trim().is_empty() && !t.en.trim().is_empty());
                if !stated {
                    self.report(
                        LEGITIMATE_INTEREST_NOT_STATED,
                        path.clone().key("legitimate_interest"),
                        format!(
                            "Purpose `{key}` rests on legitimate interest but does not say which interest; the notice must name it. Add legitimate_interest = {{ sv = \"…\", en = \"…\" }}."
                        ),
                    );
                }
                if purpose.marketing_channels.iter().any(|c| c.is_electronic()) {
                    self.electronic_marketing(key, purpose);
                }
            }
            LegalBasis::Contract => {
                if purpose.personalised_offers {
                    self.report(
                        PERSONALISATION_UNDER_CONTRACT,
                        path.clone().key("personalised_offers"),
                        format!(
                            "Purpose `{key}` tailors offers from behaviour under the contract. Personalised offers are not necessary to perform a purchase, so the contract is no basis for them. Move them to a purpose based on consent."
                        ),
                    );
                }
                if purpose.profiling {
                    self.report(
                        PROFILING_UNDER_CONTRACT,
                        path.clone().key("profiling"),
                        format!(
                            "Purpose `{key}` profiles people under the contract. Profiling is not necessary to perform the contract, so the contract is no basis for it. Move it to a purpose based on consent."
                        ),
                    );
                }
                let outsiders: Vec<String> = purpose
                    .data_subjects
                    .iter()
                    .filter(|g| {
                        policy
                            .data_subjects
                            .get(g.as_str())
                            .is_some_and(|group| !group.existing_customers)
                    })
                    .map(|g| format!("`{g}`"))
                    .collect();
                if !outsiders.is_empty() {
                    self.report(
                        CONTRACT_FOR_NON_CUSTOMERS,
                        path.clone().key("data_subjects"),
                        format!(
                            "Purpose `{key}` rests on the contract but also reaches {}, who are not customers: the contract basis covers only a party to the contract, or steps that person asked for before entering one. Base their part on legitimate interest (stated), or mark the group existing_customers = true if they all are.",
                            outsiders.join(", ")
                        ),
                    );
                }
                if NOT_CONTRACT_PURPOSES.contains(&purpose.dpv.as_str()) {
                    self.report(
                        NOT_NECESSARY_FOR_CONTRACT,
                        path.clone().key("legal_basis"),
                        format!(
                            "Purpose `{key}` ({}) rests on the contract, but service improvement and fraud prevention are, as a rule, not necessary to perform the contract with the person. Base it on legitimate interest, with the interest stated.",
                            purpose.dpv
                        ),
                    );
                }
            }
            _ => {}
        }

        if is_marketing(purpose)
            && !matches!(basis, LegalBasis::Consent | LegalBasis::LegitimateInterest)
        {
            self.report(
                MARKETING_UNDER_WRONG_BASIS,
                path.clone().key("legal_basis"),
                format!(
                    "Purpose `{key}` is direct marketing under {}. Marketing is neither necessary for a contract nor required by law; base it on consent or on legitimate interest (with the right to object).",
                    basis.as_str()
                ),
            );
        }

        if basis == LegalBasis::LegalObligation
            && purpose.law.as_deref().is_none_or(|l| l.trim().is_empty())
        {
            self.report(
                LEGAL_OBLIGATION_WITHOUT_LAW,
                path.clone().key("law"),
                format!(
                    "Purpose `{key}` rests on a legal obligation but names no law; the obligation must be laid down by law. Add e.g. law = \"Bokföringslagen (1999:1078) 7 kap. 2 §\"."
                ),
            );
        }

        if purpose.storage == Storage::Archive
            && matches!(basis, LegalBasis::Consent | LegalBasis::LegitimateInterest)
        {
            self.report(
                ARCHIVE_UNDER_CONSENT_OR_INTEREST,
                path.key("storage"),
                format!(
                    "Purpose `{key}` keeps its data in the archive, but under {} the person may withdraw, object or ask for erasure at any time; the archive is for data the law requires. Use storage = \"live\".",
                    basis.as_str()
                ),
            );
        }
    }

    /// MFL 19 §: e-mail and SMS marketing to natural persons needs prior consent, except to
    /// existing customers about the controller's own similar products.
    fn electronic_marketing(&mut self, key: &str, purpose: &Purpose) {
        let not_customers: Vec<&str> = purpose
            .data_subjects
            .iter()
            .filter(|g| {
                self.policy
                    .data_subjects
                    .get(g.as_str())
                    .is_some_and(|group| !group.existing_customers)
            })
            .map(String::as_str)
            .collect();
        if not_customers.is_empty() {
            return;
        }
        let channels: Vec<&str> = purpose
            .marketing_channels
            .iter()
            .filter(|c| c.is_electronic())
            .map(|c| match c {
                MarketingChannel::Sms => "SMS",
                _ => "e-mail",
            })
            .collect();
        self.report(
            ELECTRONIC_MARKETING_WITHOUT_CONSENT,
            at(&["purposes", key, "data_subjects"]),
            format!(
                "Purpose `{key}` markets by {} under legitimate interest to {}, who are not existing customers. E-mail and SMS marketing to a person needs prior consent, except to existing customers about the controller's own similar products. Limit `data_subjects` to groups with existing_customers = true, or base the purpose on consent.",
                channels.join(" and "),
                not_customers
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }

    fn retention_rules(&mut self, key: &str, purpose: &Purpose, retention: &Retention) {
        let path = at(&["purposes", key, "retention"]);
        let basis = purpose.legal_basis;
        match retention {
            Retention::AfterLastActivity { activities, .. } => {
                let policy = self.policy;
                self.references(
                    activities,
                    path.clone().key("activities"),
                    |k| policy.activities.contains_key(k),
                    UNKNOWN_ACTIVITY,
                    "activity",
                    "[activities]",
                );
                if activities.is_empty() {
                    self.report(
                        RETENTION_WITHOUT_ACTIVITIES,
                        path.key("activities"),
                        format!(
                            "Purpose `{key}` keeps data for a time after the last activity but names no activity, so nothing ever restarts the clock. Name the activities (e.g. [\"purchase\", \"support_contact\"]), or use rule = \"fixed_period\"."
                        ),
                    );
                }
            }
            Retention::FixedPeriod { .. } => {}
            Retention::Bokforingslagen => {
                if basis.is_some_and(|b| b != LegalBasis::LegalObligation) {
                    self.report(
                        BOOKKEEPING_RETENTION_OUTSIDE_LEGAL_OBLIGATION,
                        path,
                        format!(
                            "Purpose `{key}` keeps data as long as Bokföringslagen requires, but it is not based on legal obligation: the Accounting Act justifies keeping accounting records for bookkeeping only. Give this purpose its own period and keep the records in a bookkeeping purpose under legal_obligation."
                        ),
                    );
                }
            }
            Retention::UntilConsentWithdrawn => {
                if let Some(basis) = basis
                    && basis != LegalBasis::Consent
                {
                    self.report(
                        CONSENT_RETENTION_WITHOUT_CONSENT,
                        path,
                        format!(
                            "Purpose `{key}` keeps data until consent is withdrawn, but it rests on {}, not consent: there is no consent to withdraw, so the data would be kept forever. Give it a period.",
                            basis.as_str()
                        ),
                    );
                }
            }
            Retention::AsRequiredBy { law, months } => {
                if law.as_deref().is_none_or(|l| l.trim().is_empty()) {
                    self.report(
                        UNNAMED_RETENTION_LAW,
                        path.clone().key("law"),
                        format!(
                            "Purpose `{key}` keeps data \"as long as the law requires\" without naming the law; that is neither a period nor a criterion a person can check. Name the law and section, e.g. law = \"Bokföringslagen (1999:1078) 7 kap. 2 §\" (or use rule = \"bokforingslagen\")."
                        ),
                    );
                }
                if months.is_none() {
                    self.report(
                        RETENTION_PERIOD_UNSTATED,
                        path.key("months"),
                        format!(
                            "Purpose `{key}` keeps data as the law requires but states no period; the retention engine cannot erase what has no end. Add months = N, the period the law sets."
                        ),
                    );
                }
            }
        }
    }

    fn recipients(&mut self) {
        let policy = self.policy;
        for (key, recipient) in &policy.recipients {
            let path = at(&["recipients", key]);
            self.text(&recipient.label, path.clone().key("label"));
            self.dpv(&recipient.dpv, path.clone().key("dpv"));
            self.references(
                &recipient.purposes,
                path.clone().key("purposes"),
                |k| policy.purposes.contains_key(k),
                UNKNOWN_PURPOSE,
                "purpose",
                "[purposes]",
            );
            self.references(
                &recipient.categories,
                path.clone().key("categories"),
                |k| policy.categories.contains_key(k),
                UNKNOWN_CATEGORY,
                "category",
                "[categories]",
            );
            let allowed: HashSet<&str> = recipient
                .purposes
                .iter()
                .filter_map(|p| policy.purposes.get(p))
                .flat_map(|p| p.categories.iter().map(String::as_str))
                .collect();
            for (index, category) in recipient.categories.iter().enumerate() {
                if policy.categories.contains_key(category) && !allowed.contains(category.as_str())
                {
                    self.report(
                        RECIPIENT_CATEGORY_OUTSIDE_PURPOSES,
                        path.clone().key("categories").index(index),
                        format!(
                            "Recipient `{key}` receives `{category}`, but none of its purposes ({}) uses that category. Disclose only what the purpose needs: remove it, or add the purpose that needs it.",
                            recipient.purposes.join(", ")
                        ),
                    );
                }
            }
        }
    }

    fn roles(&mut self) {
        let policy = self.policy;
        if !policy.roles.is_empty() && !policy.roles.values().any(|r| r.handles_requests) {
            self.report(
                NO_REQUEST_HANDLER,
                at(&["roles"]),
                "No role has handles_requests = true, so no staff member can hand a person their data, erase it or record a restriction or objection through Integritet. Mark the role that answers data subjects' requests (often legal or the DPO's).".to_owned(),
            );
        }
        for (key, role) in &policy.roles {
            let path = at(&["roles", key]);
            if key == "admin" {
                self.report(
                    RESERVED_ROLE_NAME,
                    path.clone(),
                    "The role name `admin` is reserved for the administrator token, which manages staff tokens and holds no purpose. Rename this role.".to_owned(),
                );
            }
            self.text(&role.label, path.clone().key("label"));
            self.references(
                &role.purposes,
                path.key("purposes"),
                |k| policy.purposes.contains_key(k),
                UNKNOWN_PURPOSE,
                "purpose",
                "[purposes]",
            );
        }
    }

    fn cookies(&mut self) {
        let cookies = &self.policy.cookies;
        if cookies.consent == CookieConsent::ImpliedByUse {
            let optional: Vec<&str> = cookies
                .categories
                .iter()
                .filter(|(_, c)| !c.strictly_necessary)
                .map(|(k, _)| k.as_str())
                .collect();
            let which = if optional.is_empty() {
                String::new()
            } else {
                format!(" ({})", optional.join(", "))
            };
            self.report(
                IMPLIED_COOKIE_CONSENT,
                at(&["cookies", "consent"]),
                format!(
                    "Cookie consent by continued use of the site is not valid consent: consent needs a clear affirmative act, and browsing or scrolling is not one. Set consent = \"opt_in\": ask before setting cookies that are not strictly necessary{which}, with refusing as easy as accepting."
                ),
            );
        }
        for (key, category) in &cookies.categories {
            let path = at(&["cookies", "categories", key]);
            self.text(&category.label, path.clone().key("label"));
            self.text(&category.description, path.key("description"));
        }
    }

    fn security(&mut self) {
        if self.policy.security.measures.is_empty() {
            self.report(
                NO_SECURITY_MEASURES,
                at(&["security", "measures"]),
                "The policy names no security measures; the register of processing must describe them. List the technical and organisational measures in security.measures.".to_owned(),
            );
        }
    }

    fn requests(&mut self) {
        let requests = &self.policy.requests;
        let path = at(&["requests"]);
        self.email(&requests.email, path.clone().key("email"));
        if let Some(url) = &requests.portal_url {
            self.https(url, path.clone().key("portal_url"));
        }
        self.text(
            &requests.identity_verification,
            path.clone().key("identity_verification"),
        );
        self.text(
            &requests.response_channel,
            path.clone().key("response_channel"),
        );

        let opt_out = &requests.marketing_opt_out;
        let opt_out_path = path.key("marketing_opt_out");
        self.email(&opt_out.email, opt_out_path.clone().key("email"));
        let policy = self.policy;
        self.references(
            &opt_out.required_details,
            opt_out_path.clone().key("required_details"),
            |k| policy.categories.contains_key(k),
            UNKNOWN_CATEGORY,
            "category",
            "[categories]",
        );
        for (index, detail) in opt_out.required_details.iter().enumerate() {
            if self.kind_of(detail) == Some(ValueKind::IdentityNumber) {
                self.report(
                    PERSONNUMMER_FOR_OPT_OUT,
                    opt_out_path.clone().key("required_details").index(index),
                    format!(
                        "Opting out of direct marketing requires `{detail}`, an identity number. Objecting to direct marketing must be easy and must not cost more data than the marketing used; a personnummer is not needed to stop a mailing. Ask only for the address the marketing is sent to (e.g. required_details = [\"email\"])."
                    ),
                );
            }
        }
        let electronic: Vec<&str> = policy
            .purposes
            .iter()
            .filter(|(_, p)| p.marketing_channels.iter().any(|c| c.is_electronic()))
            .map(|(k, _)| k.as_str())
            .collect();
        if !electronic.is_empty() && !opt_out.link_in_every_message {
            self.report(
                MISSING_UNSUBSCRIBE_LINK,
                opt_out_path.key("link_in_every_message"),
                format!(
                    "Purposes {} market by e-mail or SMS, but messages carry no unsubscribe link. Every marketing message must let the person refuse further messages, simply and free of charge. Set link_in_every_message = true.",
                    electronic
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }

    // -- helpers ---------------------------------------------------------------------------

    fn kind_of(&self, category: &str) -> Option<ValueKind> {
        self.policy.categories.get(category).map(|c| c.kind)
    }

    /// Checks a list of references: each must exist, none twice.
    fn references(
        &mut self,
        keys: &[String],
        path: KeyPath,
        exists: impl Fn(&str) -> bool,
        unknown: Rule,
        what: &str,
        table: &str,
    ) {
        let mut seen = HashSet::new();
        for (index, key) in keys.iter().enumerate() {
            let item = path.clone().index(index);
            if !exists(key) {
                self.report(
                    unknown,
                    item,
                    format!(
                        "`{key}` is not a declared {what}. Declare it under {table}, or fix the spelling."
                    ),
                );
            } else if !seen.insert(key.as_str()) {
                self.report(
                    DUPLICATE_ENTRY,
                    item,
                    format!("`{key}` is listed twice; remove the repetition."),
                );
            }
        }
    }

    fn text(&mut self, text: &Text, path: KeyPath) {
        let missing: Vec<&str> = [("sv", &text.sv), ("en", &text.en)]
            .into_iter()
            .filter(|(_, t)| t.trim().is_empty())
            .map(|(lang, _)| lang)
            .collect();
        if !missing.is_empty() {
            self.report(
                EMPTY_TEXT,
                path,
                format!(
                    "The text is empty in {}; a notice must be complete in every language it is published in. Write it.",
                    missing.join(" and ")
                ),
            );
        }
    }

    fn dpv(&mut self, term: &str, path: KeyPath) {
        if !is_dpv_term(term) {
            self.report(
                MALFORMED_DPV_TERM,
                path,
                format!(
                    "`{term}` is not a prefixed DPV term. Write it as `prefix:Term`, e.g. `dpv:Customer`, `pd:EmailAddress` or `dpv:DirectMarketing`."
                ),
            );
        }
    }

    fn email(&mut self, address: &str, path: KeyPath) {
        if !looks_like_email(address) {
            self.report(
                INVALID_EMAIL,
                path,
                format!(
                    "`{address}` does not look like an e-mail address; people must be able to reach the controller with it. Write it as name@example.se."
                ),
            );
        }
    }

    fn https(&mut self, url: &str, path: KeyPath) {
        if !url.trim().to_ascii_lowercase().starts_with("https://") {
            self.report(
                INSECURE_URL,
                path,
                format!(
                    "`{url}` is not an https:// address; pages where people read about or send their personal data must be served over TLS. Use https://."
                ),
            );
        }
    }
}

/// Direct marketing: it names a channel, or its DPV term is a marketing purpose.
fn is_marketing(purpose: &Purpose) -> bool {
    !purpose.marketing_channels.is_empty() || MARKETING_PURPOSES.contains(&purpose.dpv.as_str())
}

/// `prefix:Term`: a lower-case prefix (letters, digits, `-`) and a term that starts upper-case.
fn is_dpv_term(term: &str) -> bool {
    let Some((prefix, name)) = term.split_once(':') else {
        return false;
    };
    let mut prefix_chars = prefix.chars();
    prefix_chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && prefix_chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A plausibility check, not RFC 5322: one `@`, a local part, and a domain of at least two
/// labels with an alphabetic top-level domain.
fn looks_like_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    if local.is_empty()
        || local.chars().any(|c| c.is_whitespace() || c.is_control())
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic));
    labels_ok && tld_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_codes_are_unique_and_kebab_case() {
        let mut seen = HashSet::new();
        for rule in RULES {
            assert!(seen.insert(rule.code), "duplicate code {}", rule.code);
            assert!(
                rule.code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                rule.code
            );
            assert!(!rule.reference.is_empty() && !rule.summary.is_empty());
        }
    }

    #[test]
    fn email_plausibility() {
        for good in [
            "a@b.se",
            "webbshop@smart-telematik.se",
            "first.last@mail.example.com",
            "x@åäö.se",
        ] {
            assert!(looks_like_email(good), "{good}");
        }
        for bad in [
            "", "a", "a@", "@b.se", "a@b", "a b@c.se", "a@b..se", "a@b.s", "a@@b.se", "a@-b.se",
            "a@b.se.", "a.@b.se",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }

    #[test]
    fn dpv_term_shape() {
        for good in [
            "dpv:Customer",
            "pd:EmailAddress",
            "eu-gdpr:A6-1-a",
            "dpv-pd:Name",
        ] {
            assert!(is_dpv_term(good), "{good}");
        }
        for bad in [
            "Customer",
            "dpv:",
            ":Customer",
            "dpv:customer",
            "DPV:Customer",
            "https://w3id.org/dpv#Customer",
            "dpv:Direct Marketing",
        ] {
            assert!(!is_dpv_term(bad), "{bad}");
        }
    }

    #[test]
    fn key_paths_render_with_indices_and_quotes() {
        let path = at(&["purposes", "marketing", "categories"]).index(2);
        assert_eq!(path.render(), "purposes.marketing.categories[2]");
        assert_eq!(at(&["categories", "a.b"]).render(), "categories.\"a.b\"");
    }
}
