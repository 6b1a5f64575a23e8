//! The privacy notice: snapshots of all four renderings of the seed policy, and the promises a
//! reader relies on.

use integritet_domain::policy::{CookieConsent, LegalBasis, Policy, PolicyVersion, Text};
use integritet_notice::{Format, Lang, render_notice};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::seed;

fn render(lang: Lang, format: Format) -> String {
    let loaded = seed();
    render_notice(&loaded.policy, &loaded.version, lang, format)
}

fn render_policy(policy: &Policy, lang: Lang, format: Format) -> String {
    render_notice(policy, &PolicyVersion::of(policy), lang, format)
}

// --- Snapshots ---------------------------------------------------------------------------------

#[test]
fn snapshot_sv_markdown() {
    insta::assert_snapshot!("notice_sv_md", render(Lang::Sv, Format::Markdown));
}

#[test]
fn snapshot_en_markdown() {
    insta::assert_snapshot!("notice_en_md", render(Lang::En, Format::Markdown));
}

#[test]
fn snapshot_sv_html() {
    insta::assert_snapshot!("notice_sv_html", render(Lang::Sv, Format::Html));
}

#[test]
fn snapshot_en_html() {
    insta::assert_snapshot!("notice_en_html", render(Lang::En, Format::Html));
}

// --- Helpers -----------------------------------------------------------------------------------

fn markdown_options() -> Options {
    Options::ENABLE_TABLES
}

/// Headings of a Markdown document as (level, text).
fn markdown_headings(md: &str) -> Vec<(u8, String)> {
    let mut out = Vec::new();
    let mut current: Option<(u8, String)> = None;
    for event in Parser::new_ext(md, markdown_options()) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                current = Some((level as u8, String::new()))
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, text)) = current.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => out.extend(current.take()),
            _ => {}
        }
    }
    out
}

/// The text of every paragraph, list item, heading and table cell of a Markdown document,
/// as a reader sees it (escapes resolved).
fn markdown_texts(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for event in Parser::new_ext(md, markdown_options()) {
        match event {
            Event::Text(t) | Event::Code(t) => current.push_str(&t),
            Event::SoftBreak | Event::HardBreak => current.push(' '),
            Event::End(
                TagEnd::Paragraph | TagEnd::Item | TagEnd::Heading(_) | TagEnd::TableCell,
            ) => {
                if !current.trim().is_empty() {
                    out.push(current.trim().to_owned());
                }
                current.clear();
            }
            _ => {}
        }
    }
    out
}

/// The visible text of an HTML page body: tags removed, entities decoded, whitespace collapsed.
fn html_text(html: &str) -> String {
    let body = html.split("<body>").nth(1).unwrap_or(html);
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const SV_SECTIONS: [&str; 10] = [
    "Allmänt",
    "Personuppgiftsansvarig",
    "Vilka personuppgifter behandlar vi om dig och varför?",
    "Rättslig grund och lagringstid",
    "Till vem lämnar vi ut dina personuppgifter?",
    "Hur skyddar vi dina personuppgifter?",
    "Om cookies",
    "Dina rättigheter",
    "Hur du motsätter dig direktmarknadsföring",
    "Kontaktuppgifter",
];

const EN_SECTIONS: [&str; 10] = [
    "General",
    "Controller",
    "Which personal data do we process and why?",
    "Legal basis and retention",
    "Who do we share your personal data with?",
    "How do we protect your personal data?",
    "About cookies",
    "Your rights",
    "How to object to direct marketing",
    "Contact details",
];

// --- Structure ---------------------------------------------------------------------------------

#[test]
fn swedish_notice_has_every_section_of_the_seed_in_order() {
    let md = render(Lang::Sv, Format::Markdown);
    let h2: Vec<String> = markdown_headings(&md)
        .into_iter()
        .filter(|(level, _)| *level == 2)
        .map(|(_, text)| text)
        .collect();
    assert_eq!(h2, SV_SECTIONS);
    // The seed's own words for its sections are all there.
    for seed_words in [
        "Allmänt",
        "Personuppgiftsansvarig",
        "Vilka personuppgifter",
        "Rättslig grund",
        "Till vem lämnar vi ut",
        "Hur skyddar vi",
        "cookies",
        "Dina rättigheter",
        "Hur du motsätter dig",
        "direktmarknadsföring",
        "Kontaktuppgifter",
    ] {
        assert!(
            h2.iter().any(|h| h.contains(seed_words)),
            "no heading with {seed_words:?}"
        );
    }
}

#[test]
fn english_notice_has_the_same_sections() {
    let md = render(Lang::En, Format::Markdown);
    let h2: Vec<String> = markdown_headings(&md)
        .into_iter()
        .filter(|(level, _)| *level == 2)
        .map(|(_, text)| text)
        .collect();
    assert_eq!(h2, EN_SECTIONS);
}

#[test]
fn markdown_has_one_title_and_no_raw_html() {
    for lang in Lang::ALL {
        let md = render(lang, Format::Markdown);
        let headings = markdown_headings(&md);
        assert_eq!(headings.iter().filter(|(l, _)| *l == 1).count(), 1);
        assert_eq!(headings[0].0, 1);
        for window in headings.windows(2) {
            assert!(
                window[1].0 <= window[0].0 + 1,
                "heading level skipped: {window:?}"
            );
        }
        let mut tables = 0;
        for event in Parser::new_ext(&md, markdown_options()) {
            assert!(
                !matches!(event, Event::Html(_) | Event::InlineHtml(_)),
                "raw HTML in Markdown: {event:?}"
            );
            if matches!(event, Event::Start(Tag::Table(_))) {
                tables += 1;
            }
        }
        // The summary of purposes plus one table per cookie category.
        assert_eq!(tables, 4);
        assert!(md.ends_with('\n') && !md.ends_with("\n\n"));
    }
}

#[test]
fn html_is_a_standalone_accessible_page() {
    for (lang, code, sections) in [(Lang::Sv, "sv", SV_SECTIONS), (Lang::En, "en", EN_SECTIONS)] {
        let html = render(lang, Format::Html);
        assert!(html.starts_with("<!doctype html>\n"), "{}", &html[..40]);
        assert!(html.contains(&format!("<html lang=\"{code}\">")));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("<meta name=\"viewport\""));
        assert!(html.contains("<title>"));
        assert_eq!(html.matches("<h1>").count(), 1);
        assert_eq!(html.matches("<main>").count(), 1);
        assert!(html.trim_end().ends_with("</html>"));

        // Heading levels never skip.
        let levels: Vec<u8> = html
            .match_indices("<h")
            .filter_map(|(i, _)| html[i + 2..].bytes().next())
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect();
        assert_eq!(levels[0], 1);
        for window in levels.windows(2) {
            assert!(
                window[1] <= window[0] + 1,
                "heading level skipped: {window:?}"
            );
        }

        // The table of contents links to every section, and every link target exists.
        for (i, heading) in sections.iter().enumerate() {
            let link = html
                .split("<li><a href=\"#")
                .nth(i + 1)
                .unwrap_or_else(|| panic!("no toc entry {i}"));
            let (id, rest) = link.split_once("\">").unwrap();
            assert!(rest.starts_with(&html_escape(heading)), "{rest}");
            assert!(
                html.contains(&format!(" id=\"{id}\">")),
                "no target for #{id}"
            );
        }

        // Tables are captioned and their header cells scoped.
        assert_eq!(
            html.matches("<table>").count(),
            html.matches("<caption>").count()
        );
        assert!(html.contains("<th scope=\"col\">"));
        assert!(html.contains("<th scope=\"row\">"));

        // No scripts and nothing loaded from elsewhere.
        assert!(!html.contains("<script"));
        assert!(!html.contains("<link"));
        assert!(!html.contains(" src="));
        assert!(!html.contains("@import"));
        assert!(!html.contains("url("));
    }
}

#[test]
fn markdown_and_html_say_the_same() {
    for lang in Lang::ALL {
        let md = render(lang, Format::Markdown);
        let html = html_text(&render(lang, Format::Html));
        let texts = markdown_texts(&md);
        assert!(texts.len() > 100, "{}", texts.len());
        for text in texts {
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(html.contains(&text), "in Markdown but not in HTML: {text}");
        }
    }
}

// --- Content -----------------------------------------------------------------------------------

#[test]
fn notice_names_the_supervisory_authority_and_its_website() {
    for lang in Lang::ALL {
        let md = render(lang, Format::Markdown);
        assert!(md.contains("Integritetsskyddsmyndigheten (IMY)"));
        assert!(md.contains("(https://www.imy.se)"));
        assert!(md.contains("Box 8114, 104 20 Stockholm"));
        let html = render(lang, Format::Html);
        assert!(html.contains("<a href=\"https://www.imy.se\">https://www.imy.se</a>"));
        assert!(!md.contains("Datainspektionen"));
    }
}

#[test]
fn every_purpose_and_category_label_appears() {
    let loaded = seed();
    for lang in Lang::ALL {
        let md = render(lang, Format::Markdown);
        let html = render(lang, Format::Html);
        let texts = markdown_texts(&md);
        let mut labels: Vec<&Text> = Vec::new();
        labels.extend(loaded.policy.purposes.values().map(|p| &p.label));
        labels.extend(loaded.policy.categories.values().map(|c| &c.label));
        labels.extend(loaded.policy.data_subjects.values().map(|s| &s.label));
        labels.extend(loaded.policy.recipients.values().map(|r| &r.label));
        labels.extend(loaded.policy.cookies.categories.values().map(|c| &c.label));
        for label in labels {
            let label = label.get(lang);
            assert!(
                texts
                    .iter()
                    .any(|t| t == label || t.starts_with(&format!("{label}."))),
                "{label:?} is not a heading, list item or cell of its own"
            );
            assert!(html.contains(&html_escape(label)), "{label:?} not in HTML");
        }
        for purpose in loaded.policy.purposes.values() {
            assert!(md.contains(purpose.description.get(lang)));
        }
        for measure in &loaded.policy.security.measures {
            assert!(md.contains(measure.get(lang)));
        }
    }
}

#[test]
fn swedish_notice_states_retention_in_natural_language() {
    let md = render(Lang::Sv, Format::Markdown);
    for expected in [
        "Lagringstid: 36 månader efter att du senast var aktiv hos oss, till exempel genom ett köp eller en kontakt med kundtjänst.",
        "Lagringstid: till och med det sjunde året efter utgången av det kalenderår då räkenskapsåret avslutades (bokföringslagen 7 kap. 2 §).",
        "Lagringstid: tills du tar tillbaka ditt samtycke.",
        "Lagringstid: 13 månader från det att uppgifterna samlades in.",
        "Lagringstid: 24 månader, i enlighet med rättegångsbalken (1942:740) 27 kap. Uppgifterna arkiveras utan sökbarhet",
        "till exempel genom ett köp, en kontakt med kundtjänst eller en inloggning på Mina sidor",
        "Vi är skyldiga att behandla uppgifterna enligt bokföringslagen (1999:1078) 7 kap. 2 §.",
        "Vi har ett berättigat intresse av att marknadsföra våra egna liknande produkter till befintliga kunder",
        "Marknadsföringen sker per post, e-post och telefon.",
        "Vi anpassar erbjudanden och innehåll efter dig",
        "Vi behandlar inga känsliga personuppgifter och utför ingen profilering med stöd av en intresseavvägning.",
        "Rättslig grund: fullgörande av avtal (artikel 6.1 b i dataskyddsförordningen).",
        "Rättslig grund: ditt samtycke (artikel 6.1 a i dataskyddsförordningen).",
        "Rättslig grund: intresseavvägning (artikel 6.1 f i dataskyddsförordningen).",
        "Rättslig grund: rättslig förpliktelse (artikel 6.1 c i dataskyddsförordningen).",
        "Du har rätt att invända mot behandlingen.",
        "Du kan när som helst invända mot direktmarknadsföring",
    ] {
        assert!(md.contains(expected), "missing: {expected}");
    }
    assert!(!md.contains(".."), "double full stop");
}

#[test]
fn english_notice_states_retention_in_natural_language() {
    let md = render(Lang::En, Format::Markdown);
    for expected in [
        "Retention: 36 months after you were last active with us, for example a purchase or a contact with customer service.",
        "Retention: until the end of the seventh year after the calendar year in which the financial year ended",
        "Retention: until you withdraw your consent.",
        "Our legitimate interest is protecting you and us against fraud and keeping our systems secure.",
        "We send the marketing by post, e-mail and phone.",
        "Legal basis: performance of a contract (Article 6(1)(b) GDPR).",
        "The data is archived without searchability",
    ] {
        assert!(md.contains(expected), "missing: {expected}");
    }
    assert!(!md.contains(".."), "double full stop");
}

#[test]
fn recipients_are_explained_and_data_is_never_sold() {
    let md = render(Lang::Sv, Format::Markdown);
    let section = md
        .split("## Till vem lämnar vi ut dina personuppgifter?")
        .nth(1)
        .unwrap();
    assert!(
        section
            .trim_start()
            .starts_with("Vi säljer aldrig dina personuppgifter.")
    );
    assert!(section.contains("personuppgiftsbiträde som behandlar uppgifterna för vår räkning"));
    assert!(section.contains("självständigt personuppgiftsansvarig"));
    assert!(section.contains("Roll: myndighet"));
    assert!(section.contains(
        "Vi lämnar ut uppgifter när du ansöker om kredit vid köp av en vara eller tjänst."
    ));
    assert!(
        section.contains(
            "Det gäller följande uppgifter: namn, adress, telefonnummer och e-postadress."
        )
    );
    assert!(section.contains("Uppgifterna behandlas inom EU/EES."));

    let en = render(Lang::En, Format::Markdown);
    assert!(en.contains("We never sell your personal data."));
    assert!(en.contains(
        "This concerns the following data: name, postal address, phone number and e-mail address."
    ));
}

#[test]
fn rights_follow_from_the_legal_bases() {
    let md = render(Lang::Sv, Format::Markdown);
    let item = |name: &str| -> String {
        md.lines()
            .find(|l| l.starts_with(&format!("- **{name}.**")))
            .unwrap_or_else(|| panic!("no item {name}"))
            .to_owned()
    };
    for name in [
        "Rätt till tillgång",
        "Rätt till rättelse",
        "Rätt till radering",
        "Rätt till begränsning",
        "Rätt att invända",
        "Rätt till dataportabilitet",
        "Rätt att ta tillbaka ditt samtycke",
    ] {
        item(name);
    }
    // Portability: only consent and contract purposes.
    let portability = item("Rätt till dataportabilitet");
    for yes in [
        "Köp, fakturering och support",
        "Kundförhållandet och våra tjänster",
        "Nyhetsbrev med anpassade erbjudanden",
    ] {
        assert!(portability.contains(&format!("”{yes}”")), "{portability}");
    }
    for no in [
        "Bokföring",
        "Kundvård och kundservice",
        "Förhindra bedrägerier och hantera risker",
    ] {
        assert!(!portability.contains(&format!("”{no}”")), "{portability}");
    }
    // Objection: the legitimate-interest purposes.
    let objection = item("Rätt att invända");
    for yes in [
        "Kundvård och kundservice",
        "Direktmarknadsföring till kunder per post, e-post och telefon",
        "Förbättra vårt kunderbjudande",
        "Förhindra bedrägerier och hantera risker",
    ] {
        assert!(objection.contains(&format!("”{yes}”")), "{objection}");
    }
    assert!(!objection.contains("”Nyhetsbrev"), "{objection}");
    // Erasure: not what the law requires us to keep.
    let erasure = item("Rätt till radering");
    assert!(
        erasure.contains("”Bokföring” och ”Skyldigheter mot myndigheter”"),
        "{erasure}"
    );
    assert!(!erasure.contains("”Köp"), "{erasure}");
    // Withdrawal: the consent purpose.
    assert!(
        item("Rätt att ta tillbaka ditt samtycke")
            .contains("”Nyhetsbrev med anpassade erbjudanden”")
    );

    assert!(md.contains("senast inom en månad"));
    assert!(md.contains("förlängas med ytterligare två månader"));
    assert!(md.contains("artikel 12.3"));
    assert!(md.contains("Du har också rätt att lämna klagomål till tillsynsmyndigheten, Integritetsskyddsmyndigheten (IMY):"));
}

#[test]
fn cookies_section_describes_opt_in_and_every_cookie() {
    let loaded = seed();
    let md = render(Lang::Sv, Format::Markdown);
    assert!(md.contains("En cookie är en liten datafil"));
    assert!(md.contains("Vi använder bara andra cookies än nödvändiga om du aktivt godkänner dem; du kan vägra lika enkelt som du godkänner och ändra dig när som helst."));
    assert!(md.contains("Global Privacy Control (GPC)"));
    assert!(md.contains("Vi sparar ditt val i 12 månader."));
    for category in loaded.policy.cookies.categories.values() {
        assert!(md.contains(&format!("**Cookies i kategorin ”{}”**", category.label.sv)));
        for cookie in &category.cookies {
            let name = &cookie.name;
            assert!(
                md.contains(&format!("| `{name}` | {} |", cookie.provider)),
                "{name}"
            );
        }
    }
}

#[test]
fn implied_cookie_consent_is_rendered_as_written_not_as_opt_in() {
    let mut policy = seed().policy;
    policy.cookies.consent = CookieConsent::ImpliedByUse;
    let md = render_policy(&policy, Lang::Sv, Format::Markdown);
    assert!(md.contains(
        "Enligt vår policy anses du samtycka till cookies genom att använda webbplatsen."
    ));
    assert!(!md.contains("om du aktivt godkänner dem"));
    assert!(!md.contains("ändra dina val för cookies"));
}

#[test]
fn direct_marketing_opt_out_names_the_details_by_their_labels() {
    let md = render(Lang::Sv, Format::Markdown);
    let section = md
        .split("## Hur du motsätter dig direktmarknadsföring")
        .nth(1)
        .unwrap();
    assert!(section.contains("[webbshop@smart-telematik.se](mailto:webbshop@smart-telematik.se)"));
    assert!(section.contains("Ange följande uppgift i meddelandet: e-postadress."));
    assert!(section.contains("länken längst ned i varje marknadsföringsutskick"));
    assert!(!section.contains("personnummer"));

    let mut policy = seed().policy;
    policy.requests.marketing_opt_out.required_details = vec![
        "name".into(),
        "postal_address".into(),
        "identity_number".into(),
    ];
    let md = render_policy(&policy, Lang::Sv, Format::Markdown);
    assert!(md.contains("Ange följande uppgifter i meddelandet: namn; adress samt personnummer, samordningsnummer eller organisationsnummer."));
    let en = render_policy(&policy, Lang::En, Format::Markdown);
    assert!(en.contains("Please state your name; postal address; and personal identity number, co-ordination number or organisation number in the message."));
}

#[test]
fn contact_section_has_everything_a_person_needs() {
    let mut policy = seed().policy;
    let md = render_policy(&policy, Lang::Sv, Format::Markdown);
    let contact = md.split("## Kontaktuppgifter").nth(1).unwrap();
    assert!(contact.contains("Rejoin Telematics AB, organisationsnummer 556800-7610"));
    assert!(
        contact.contains("- Postadress: Rejoin Telematics AB, Berglundavägen 1G, 702 36 Örebro\n")
    );
    assert!(contact.contains("- Integritetsportal: [https://smart-telematik.se/privacy]"));
    assert!(contact.contains("skriftlig begäran per post"));
    assert!(contact.contains("BankID"));
    assert!(contact.contains("folkbokföringsadress"));
    assert!(!contact.contains("Telefon"));
    assert!(!contact.contains("Dataskyddsombud"));
    assert!(md.contains("Version av policyn: `pv1-"));

    policy.controller.phone = Some("+46 19 12 34 56".into());
    policy.controller.dpo = Some(integritet_domain::policy::ContactPoint {
        name: "Anna Andersson".into(),
        email: "dso@example.se".into(),
        phone: None,
    });
    let md = render_policy(&policy, Lang::Sv, Format::Markdown);
    assert!(md.contains("- Telefon: +46 19 12 34 56\n"));
    assert!(
        md.contains("- Dataskyddsombud: Anna Andersson, [dso@example.se](mailto:dso@example.se)\n")
    );
    assert!(md.contains("Vi har utsett ett dataskyddsombud, Anna Andersson, som du når på [dso@example.se](mailto:dso@example.se)."));
    let en = render_policy(&policy, Lang::En, Format::Markdown);
    assert!(en.contains(
        "- Postal address: Rejoin Telematics AB, Berglundavägen 1G, 702 36 Örebro, Sweden\n"
    ));
}

#[test]
fn third_country_transfers_are_named() {
    let mut policy = seed().policy;
    policy.recipients["it_suppliers"].third_countries = vec!["US".into(), "XY".into()];
    let md = render_policy(&policy, Lang::Sv, Format::Markdown);
    assert!(md.contains("Uppgifterna förs över till följande länder utanför EU/EES: USA och XY."));
    assert!(md.contains("skyddsåtgärder"));
    let en = render_policy(&policy, Lang::En, Format::Markdown);
    assert!(en.contains("outside the EU/EEA: the United States and XY."));
}

#[test]
fn an_incomplete_policy_still_renders() {
    let mut policy = seed().policy;
    for purpose in policy.purposes.values_mut() {
        purpose.legal_basis = None;
        purpose.retention = None;
    }
    policy.purposes["purchase"]
        .categories
        .push("no_such_category".into());
    policy.recipients.clear();
    let md = render_policy(&policy, Lang::Sv, Format::Markdown);
    assert!(md.contains("Policyn anger ingen rättslig grund för detta ändamål."));
    assert!(md.contains("Lagringstid: anges inte i policyn."));
    assert!(md.contains("- no\\_such\\_category"));
    assert!(md.contains("Vi säljer aldrig dina personuppgifter. Vi lämnar inte ut dina personuppgifter till någon annan."));
    assert!(
        md.contains("Vi behandlar för närvarande inga uppgifter med stöd av samtycke eller avtal.")
    );
    let _ = render_policy(&policy, Lang::En, Format::Html);
}

#[test]
fn a_public_task_purpose_allows_objection_and_no_erasure() {
    let mut policy = seed().policy;
    policy.purposes["product_improvement"].legal_basis = Some(LegalBasis::PublicTask);
    let md = render_policy(&policy, Lang::En, Format::Markdown);
    assert!(md.contains("Legal basis: a task carried out in the public interest"));
}

// --- Escaping ----------------------------------------------------------------------------------

fn hostile_policy() -> Policy {
    let mut policy = seed().policy;
    policy.controller.name = "Evil <script>alert(1)</script> & Co".into();
    policy.controller.website = "javascript:alert(1)".into();
    let purchase = &mut policy.purposes["purchase"];
    purchase.label = Text {
        sv: "Köp <b>fetstil</b> & *stjärnor* _under_ [länk](https://evil.example) `kod` | rör"
            .into(),
        en: "Buy <b>bold</b> & *stars* _under_ [link](https://evil.example) `code` | pipe".into(),
    };
    purchase.description = Text {
        sv:
            "<img src=x onerror=alert(1)> \"citat\" 'apostrof'\n\n# inte en rubrik\n- inte en lista"
                .into(),
        en: "<img src=x onerror=alert(1)> \"quote\" 'apostrophe'\n\n# not a heading\n- not a list"
            .into(),
    };
    policy.categories["name"].label = Text {
        sv: "1. Namn <i>".into(),
        en: "- Name &amp;".into(),
    };
    policy.cookies.categories["necessary"].cookies[0].name = "a|b`c".into();
    policy
}

#[test]
fn html_escapes_every_text_from_the_policy() {
    let policy = hostile_policy();
    for lang in Lang::ALL {
        let html = render_policy(&policy, lang, Format::Html);
        assert!(!html.contains("<script"), "unescaped script");
        assert!(!html.contains("<img"), "unescaped img");
        assert!(!html.contains("<b>"), "unescaped b");
        assert!(!html.contains("<i>"), "unescaped i");
        assert!(!html.contains("href=\"javascript:"), "javascript link");
        assert!(html.contains("Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
        assert!(html.contains("<title>"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; &quot;"));
        assert!(html.contains("javascript:alert(1)"), "shown as text");
        assert!(html.contains("&amp;amp;") || lang == Lang::Sv);
        assert!(html.contains("<code>a|b`c</code>"));
    }
}

#[test]
fn markdown_escapes_every_text_from_the_policy() {
    let policy = hostile_policy();
    for lang in Lang::ALL {
        let md = render_policy(&policy, lang, Format::Markdown);
        let mut links = Vec::new();
        for event in Parser::new_ext(&md, markdown_options()) {
            match &event {
                Event::Html(_) | Event::InlineHtml(_) => panic!("raw HTML in Markdown: {event:?}"),
                Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.to_string()),
                Event::Start(Tag::Emphasis | Tag::Strong) => {}
                _ => {}
            }
        }
        assert!(
            !links
                .iter()
                .any(|l| l.contains("javascript") || l.contains("evil")),
            "{links:?}"
        );
        let texts = markdown_texts(&md);
        let (name, label, description, category) = match lang {
            Lang::Sv => (
                "Evil <script>alert(1)</script> & Co",
                "Köp <b>fetstil</b> & *stjärnor* _under_ [länk](https://evil.example) `kod` | rör",
                "<img src=x onerror=alert(1)> \"citat\" 'apostrof' # inte en rubrik - inte en lista",
                "1. Namn <i>",
            ),
            Lang::En => (
                "Evil <script>alert(1)</script> & Co",
                "Buy <b>bold</b> & *stars* _under_ [link](https://evil.example) `code` | pipe",
                "<img src=x onerror=alert(1)> \"quote\" 'apostrophe' # not a heading - not a list",
                "- Name &amp;",
            ),
        };
        assert!(
            texts.iter().any(|t| t.contains(name)),
            "controller name mangled"
        );
        assert!(texts.iter().any(|t| t == label), "purpose label mangled");
        assert!(
            texts.iter().any(|t| t.contains(description)),
            "description mangled"
        );
        assert!(
            texts.iter().any(|t| t == category),
            "category label mangled"
        );
        // Texts stay inside their table cells: every row of every table has three cells.
        let mut cells = 0;
        let mut rows = 0;
        for event in Parser::new_ext(&md, markdown_options()) {
            match event {
                Event::Start(Tag::TableRow | Tag::TableHead) => cells = 0,
                Event::End(TagEnd::TableCell) => cells += 1,
                Event::End(TagEnd::TableRow | TagEnd::TableHead) => {
                    assert_eq!(cells, 3, "a table row with {cells} cells");
                    rows += 1;
                }
                _ => {}
            }
        }
        // The summary (heading and nine purposes) and three cookie tables (four cookies).
        assert_eq!(rows, (1 + 9) + (3 + 4));
        assert!(texts.iter().any(|t| t == "a|b`c"), "cookie name mangled");
        // Only the headings the notice makes.
        let headings = markdown_headings(&md);
        assert!(
            headings
                .iter()
                .all(|(_, h)| !h.contains("rubrik") && !h.contains("heading"))
        );
    }
}
