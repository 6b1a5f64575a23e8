//! Every fixed sentence of the privacy notice and the register, one struct per language, so a
//! translator reads them side by side.
//!
//! Placeholders are written `{name}` and filled by the document builder with text from the
//! policy (which the renderers escape). A sentence never contains markup.

use integritet_domain::policy::{Lang, LegalBasis, MarketingChannel, RecipientKind};

use crate::words::Conjunction;

/// The fixed texts of one language.
#[derive(Debug)]
pub(crate) struct Texts {
    // --- Joining words and small forms -------------------------------------------------------
    /// Joins the last item of a list: "a, b och c".
    pub and: Conjunction,
    /// Joins the last of alternatives: "a, b eller c".
    pub or: Conjunction,
    pub quote_open: &'static str,
    pub quote_close: &'static str,
    pub month_one: &'static str,
    pub months_many: &'static str,
    /// "the purpose “X”".
    pub purpose_one: &'static str,
    /// "the purposes “X” and “Y”".
    pub purposes_many: &'static str,

    // --- The page ----------------------------------------------------------------------------
    pub title: &'static str,
    pub toc_heading: &'static str,
    pub footer_version: &'static str,

    // --- General -----------------------------------------------------------------------------
    pub general_heading: &'static str,
    pub general_intro: &'static str,
    pub general_matters: &'static str,
    pub general_ask: &'static str,

    // --- Controller --------------------------------------------------------------------------
    pub controller_heading: &'static str,
    pub controller_text: &'static str,
    pub controller_dpo: &'static str,

    // --- Which data and why ------------------------------------------------------------------
    pub data_heading: &'static str,
    pub data_categories_intro: &'static str,
    pub special_category_marker: &'static str,
    pub data_purposes_intro: &'static str,
    pub data_purposes_outro: &'static str,

    // --- Legal basis and retention -----------------------------------------------------------
    pub basis_heading: &'static str,
    pub basis_intro: &'static str,
    pub basis_table_caption: &'static str,
    pub basis_table_purpose: &'static str,
    pub basis_table_basis: &'static str,
    pub basis_table_retention: &'static str,
    pub basis_no_sensitive_no_profiling: &'static str,
    pub basis_subjects: &'static str,
    pub basis_categories_intro: &'static str,
    pub basis_contract: &'static str,
    pub basis_consent: &'static str,
    pub basis_legal_obligation_with_law: &'static str,
    pub basis_legal_obligation_without_law: &'static str,
    pub basis_legitimate_interest: &'static str,
    /// Used when the interest reads as a verb phrase ("Att …" / "Protecting …").
    pub legitimate_interest_flowing: &'static str,
    /// Used for any other wording of the interest.
    pub legitimate_interest_quoted: &'static str,
    pub basis_vital_interests: &'static str,
    pub basis_public_task: &'static str,
    pub basis_missing: &'static str,
    pub basis_other_law: &'static str,
    pub objection_general: &'static str,
    pub objection_marketing: &'static str,
    pub marketing_channels: &'static str,
    pub personalised_offers: &'static str,
    pub profiling: &'static str,
    pub retention_sentence: &'static str,
    pub retention_after_last_activity: &'static str,
    pub retention_after_last_activity_examples: &'static str,
    pub retention_fixed_period: &'static str,
    pub retention_bokforingslagen: &'static str,
    pub retention_until_consent_withdrawn: &'static str,
    pub retention_law_and_months: &'static str,
    pub retention_law_only: &'static str,
    pub retention_months_only: &'static str,
    pub retention_as_law_requires: &'static str,
    pub retention_missing: &'static str,
    pub storage_archive: &'static str,

    // --- Recipients --------------------------------------------------------------------------
    pub recipients_heading: &'static str,
    pub recipients_never_sold: &'static str,
    pub recipients_intro: &'static str,
    pub recipients_none: &'static str,
    pub recipient_processor: &'static str,
    pub recipient_independent_controller: &'static str,
    pub recipient_authority: &'static str,
    pub recipient_condition: &'static str,
    pub recipient_categories: &'static str,
    pub recipient_purposes: &'static str,
    pub recipient_within_eea: &'static str,
    pub recipient_third_countries: &'static str,
    pub recipient_safeguards: &'static str,

    // --- Security ----------------------------------------------------------------------------
    pub security_heading: &'static str,
    pub security_intro: &'static str,

    // --- Cookies -----------------------------------------------------------------------------
    pub cookies_heading: &'static str,
    pub cookies_intro: &'static str,
    pub cookies_what_is: &'static str,
    pub cookies_law: &'static str,
    pub cookies_opt_in: &'static str,
    pub cookies_implied_by_use: &'static str,
    pub cookies_gpc: &'static str,
    pub cookies_valid_months: &'static str,
    pub cookies_categories_intro: &'static str,
    pub cookies_table_caption: &'static str,
    pub cookies_table_name: &'static str,
    pub cookies_table_provider: &'static str,
    pub cookies_table_duration: &'static str,
    pub cookies_category_empty: &'static str,

    // --- Rights ------------------------------------------------------------------------------
    pub rights_heading: &'static str,
    pub rights_intro: &'static str,
    pub rights_portal: &'static str,
    pub right_access_name: &'static str,
    pub right_access: &'static str,
    pub right_rectification_name: &'static str,
    pub right_rectification: &'static str,
    pub right_erasure_name: &'static str,
    pub right_erasure: &'static str,
    pub right_erasure_not_for: &'static str,
    pub right_restriction_name: &'static str,
    pub right_restriction: &'static str,
    pub right_objection_name: &'static str,
    pub right_objection: &'static str,
    pub right_objection_applies: &'static str,
    pub right_objection_none: &'static str,
    pub right_portability_name: &'static str,
    pub right_portability: &'static str,
    pub right_portability_applies: &'static str,
    pub right_portability_none: &'static str,
    pub right_withdraw_name: &'static str,
    pub right_withdraw: &'static str,
    pub right_withdraw_applies: &'static str,
    pub right_withdraw_cookies: &'static str,
    pub rights_deadline: &'static str,
    pub rights_read_more: &'static str,
    pub rights_gdpr_link_text: &'static str,
    pub rights_gdpr_url: &'static str,
    pub complaint_contact_us: &'static str,
    pub complaint_authority: &'static str,
    pub complaint_website: &'static str,
    pub complaint_email: &'static str,
    pub complaint_postal_address: &'static str,

    // --- Direct marketing --------------------------------------------------------------------
    pub marketing_heading: &'static str,
    pub marketing_intro: &'static str,
    pub marketing_none: &'static str,
    pub marketing_opt_out: &'static str,
    pub marketing_details_one: &'static str,
    pub marketing_details_many: &'static str,
    pub marketing_link: &'static str,
    pub marketing_suppression: &'static str,

    // --- Contact -----------------------------------------------------------------------------
    pub contact_heading: &'static str,
    pub contact_intro: &'static str,
    pub contact_email: &'static str,
    pub contact_requests_email: &'static str,
    pub contact_phone: &'static str,
    pub contact_postal_address: &'static str,
    pub contact_website: &'static str,
    pub contact_portal: &'static str,
    pub contact_dpo: &'static str,
    pub contact_postal_requests: &'static str,

    // --- Words for the policy's fixed values ------------------------------------------------
    /// Article citation in running text; `{letter}` is the point of Art. 6(1).
    pub article: &'static str,
    /// Article citation in tables.
    pub article_short: &'static str,
    pub basis_name_consent: &'static str,
    pub basis_name_contract: &'static str,
    pub basis_name_legal_obligation: &'static str,
    pub basis_name_vital_interests: &'static str,
    pub basis_name_public_task: &'static str,
    pub basis_name_legitimate_interest: &'static str,
    pub channel_post: &'static str,
    pub channel_email: &'static str,
    pub channel_phone: &'static str,
    pub channel_sms: &'static str,
    /// Swedish writes law names in lower case mid-sentence ("enligt bokföringslagen");
    /// English keeps the Swedish name as a proper noun.
    pub lowercase_law_names: bool,
}

impl Texts {
    pub fn for_lang(lang: Lang) -> &'static Texts {
        match lang {
            Lang::Sv => &SV,
            Lang::En => &EN,
        }
    }

    /// The legal basis as a short name, for tables.
    pub fn basis_name(&self, basis: LegalBasis) -> &'static str {
        match basis {
            LegalBasis::Consent => self.basis_name_consent,
            LegalBasis::Contract => self.basis_name_contract,
            LegalBasis::LegalObligation => self.basis_name_legal_obligation,
            LegalBasis::VitalInterests => self.basis_name_vital_interests,
            LegalBasis::PublicTask => self.basis_name_public_task,
            LegalBasis::LegitimateInterest => self.basis_name_legitimate_interest,
        }
    }

    pub fn channel(&self, channel: MarketingChannel) -> &'static str {
        match channel {
            MarketingChannel::Post => self.channel_post,
            MarketingChannel::Email => self.channel_email,
            MarketingChannel::Phone => self.channel_phone,
            MarketingChannel::Sms => self.channel_sms,
        }
    }

    pub fn recipient_kind(&self, kind: RecipientKind) -> &'static str {
        match kind {
            RecipientKind::Processor => self.recipient_processor,
            RecipientKind::IndependentController => self.recipient_independent_controller,
            RecipientKind::Authority => self.recipient_authority,
        }
    }
}

/// The letter of Art. 6(1) that grants a basis.
pub(crate) fn basis_letter(basis: LegalBasis) -> char {
    match basis {
        LegalBasis::Consent => 'a',
        LegalBasis::Contract => 'b',
        LegalBasis::LegalObligation => 'c',
        LegalBasis::VitalInterests => 'd',
        LegalBasis::PublicTask => 'e',
        LegalBasis::LegitimateInterest => 'f',
    }
}

/// Swedish.
pub(crate) static SV: Texts = Texts {
    and: Conjunction {
        plain: " och ",
        nested: " samt ",
        after_semicolons: " samt ",
    },
    or: Conjunction {
        plain: " eller ",
        nested: " eller ",
        after_semicolons: " eller ",
    },
    quote_open: "”",
    quote_close: "”",
    month_one: "{n} månad",
    months_many: "{n} månader",
    purpose_one: "ändamålet {purposes}",
    purposes_many: "ändamålen {purposes}",

    title: "Integritetspolicy för {controller}",
    toc_heading: "Innehåll",
    footer_version: "Version av policyn: {version}",

    general_heading: "Allmänt",
    general_intro: "Den här informationen förklarar hur {controller} behandlar dina personuppgifter och vilka rättigheter du har. Den vänder sig till dig som hör till någon av följande grupper:",
    general_matters: "Din integritet är viktig för oss. Vi vill att de personuppgifter som vi samlar in om dig lagras och hanteras på ett tryggt och säkert sätt och i enlighet med dataskyddslagstiftningen, bland annat EU:s dataskyddsförordning (GDPR).",
    general_ask: "Läs gärna igenom informationen noggrant. Om du har frågor om hur vi behandlar dina personuppgifter är du välkommen att kontakta oss. Våra kontaktuppgifter finns i slutet av den här texten.",

    controller_heading: "Personuppgiftsansvarig",
    controller_text: "{controller}, organisationsnummer {org_number}, är personuppgiftsansvarig för behandlingen av dina personuppgifter och ansvarar för att behandlingen sker i enlighet med tillämplig lagstiftning.",
    controller_dpo: "Vi har utsett ett dataskyddsombud, {dpo}, som du når på {email}.",

    data_heading: "Vilka personuppgifter behandlar vi om dig och varför?",
    data_categories_intro: "Beroende på vilken kontakt du har med oss behandlar vi följande personuppgifter om dig:",
    special_category_marker: " (känslig personuppgift)",
    data_purposes_intro: "Vi behandlar dina personuppgifter för följande ändamål:",
    data_purposes_outro: "I nästa avsnitt beskriver vi för varje ändamål vilka uppgifter vi använder, vilken rättslig grund behandlingen vilar på och hur länge vi sparar uppgifterna.",

    basis_heading: "Rättslig grund och lagringstid",
    basis_intro: "Vi behandlar bara dina personuppgifter när vi har en rättslig grund för det enligt dataskyddsförordningen. Varje ändamål har en rättslig grund, och den avgör också vilka av dina rättigheter som gäller.",
    basis_table_caption: "Ändamål, rättslig grund och lagringstid i sammandrag",
    basis_table_purpose: "Ändamål",
    basis_table_basis: "Rättslig grund",
    basis_table_retention: "Lagringstid",
    basis_no_sensitive_no_profiling: "Vi behandlar inga känsliga personuppgifter och utför ingen profilering med stöd av en intresseavvägning.",
    basis_subjects: "Behandlingen gäller {subjects}.",
    basis_categories_intro: "Uppgifter som vi behandlar för detta ändamål:",
    basis_contract: "Rättslig grund: fullgörande av avtal ({article}). Vi behöver uppgifterna för att kunna ingå och fullgöra avtalet med dig. Utan uppgifterna kan vi inte ingå eller fullgöra avtalet.",
    basis_consent: "Rättslig grund: ditt samtycke ({article}). Du kan när som helst ta tillbaka ditt samtycke. Det påverkar inte lagligheten i den behandling som skedde innan du tog tillbaka det.",
    basis_legal_obligation_with_law: "Rättslig grund: rättslig förpliktelse ({article}). Vi är skyldiga att behandla uppgifterna enligt {law}.",
    basis_legal_obligation_without_law: "Rättslig grund: rättslig förpliktelse ({article}). Vi är skyldiga enligt lag att behandla uppgifterna.",
    basis_legitimate_interest: "Rättslig grund: intresseavvägning ({article}).",
    legitimate_interest_flowing: "Vi har ett berättigat intresse av {interest}.",
    legitimate_interest_quoted: "Vårt berättigade intresse är följande: {interest}",
    basis_vital_interests: "Rättslig grund: att skydda dina eller någon annans grundläggande intressen ({article}).",
    basis_public_task: "Rättslig grund: en uppgift av allmänt intresse eller som ett led i myndighetsutövning ({article}).",
    basis_missing: "Policyn anger ingen rättslig grund för detta ändamål.",
    basis_other_law: "Behandlingen sker även med stöd av {law}.",
    objection_general: "Du har rätt att invända mot behandlingen. Om du gör det upphör vi med den, om vi inte kan visa tvingande berättigade skäl som väger tyngre än dina intressen, rättigheter och friheter, eller om behandlingen behövs för att fastställa, göra gällande eller försvara rättsliga anspråk.",
    objection_marketing: "Du kan när som helst invända mot direktmarknadsföring, och då upphör vi alltid med den.",
    marketing_channels: "Marknadsföringen sker per {channels}.",
    personalised_offers: "Vi anpassar erbjudanden och innehåll efter dig utifrån de uppgifter som anges ovan.",
    profiling: "Behandlingen innebär profilering, det vill säga att vi automatiskt analyserar uppgifter om dig för att bedöma till exempel dina intressen eller ditt beteende.",
    retention_sentence: "Lagringstid: {retention}.",
    retention_after_last_activity: "{months} efter att du senast var aktiv hos oss",
    retention_after_last_activity_examples: "{months} efter att du senast var aktiv hos oss, till exempel genom {activities}",
    retention_fixed_period: "{months} från det att uppgifterna samlades in",
    retention_bokforingslagen: "till och med det sjunde året efter utgången av det kalenderår då räkenskapsåret avslutades (bokföringslagen 7 kap. 2 §)",
    retention_until_consent_withdrawn: "tills du tar tillbaka ditt samtycke",
    retention_law_and_months: "{months}, i enlighet med {law}",
    retention_law_only: "så länge som {law} kräver",
    retention_months_only: "{months}, så som lagen kräver",
    retention_as_law_requires: "så länge som lagen kräver",
    retention_missing: "anges inte i policyn",
    storage_archive: "Uppgifterna arkiveras utan sökbarhet och kan bara tas fram med en särskild hänvisning och ett angivet skäl.",

    recipients_heading: "Till vem lämnar vi ut dina personuppgifter?",
    recipients_never_sold: "Vi säljer aldrig dina personuppgifter.",
    recipients_intro: "Vi lämnar bara ut dem till de mottagare som anges nedan, och bara de uppgifter som anges för varje mottagare.",
    recipients_none: "Vi lämnar inte ut dina personuppgifter till någon annan.",
    recipient_processor: "Roll: personuppgiftsbiträde som behandlar uppgifterna för vår räkning och enligt våra instruktioner.",
    recipient_independent_controller: "Roll: självständigt personuppgiftsansvarig, som själv ansvarar för sin behandling av uppgifterna.",
    recipient_authority: "Roll: myndighet som tar emot uppgifterna med stöd av lag.",
    recipient_condition: "Vi lämnar ut uppgifter {condition}.",
    recipient_categories: "Det gäller följande uppgifter: {categories}.",
    recipient_purposes: "Utlämnandet sker för {purposes}.",
    recipient_within_eea: "Uppgifterna behandlas inom EU/EES.",
    recipient_third_countries: "Uppgifterna förs över till följande länder utanför EU/EES: {countries}.",
    recipient_safeguards: "Kontakta oss om du vill veta vilka skyddsåtgärder som gäller för överföringen eller få en kopia av dem.",

    security_heading: "Hur skyddar vi dina personuppgifter?",
    security_intro: "Din integritet är viktig för oss, och därför sätter vi säkerheten i fokus. Vi vidtar tekniska och organisatoriska åtgärder för att skydda dina uppgifter i enlighet med dataskyddsförordningen, bland annat följande:",

    cookies_heading: "Om cookies",
    cookies_intro: "När du besöker vår webbplats {website} använder vi cookies.",
    cookies_what_is: "En cookie är en liten datafil som en webbplats lagrar på din dator, mobil eller surfplatta så att webbplatsen kan känna igen enheten nästa gång du besöker den. En cookie är passiv och kan inte sprida datavirus eller andra skadliga program. I din webbläsares inställningar kan du välja vilka cookies som ska tillåtas, blockeras eller raderas.",
    cookies_law: "Enligt lagen om elektronisk kommunikation ska alla som besöker en webbplats få information om vad cookies används till och ges möjlighet att vägra sådan användning.",
    cookies_opt_in: "Vi använder bara andra cookies än nödvändiga om du aktivt godkänner dem; du kan vägra lika enkelt som du godkänner och ändra dig när som helst.",
    cookies_implied_by_use: "Enligt vår policy anses du samtycka till cookies genom att använda webbplatsen.",
    cookies_gpc: "Om din webbläsare skickar signalen Global Privacy Control (GPC) tolkar vi det som att du vägrar andra cookies än nödvändiga.",
    cookies_valid_months: "Vi sparar ditt val i {months}. Därefter frågar vi dig igen.",
    cookies_categories_intro: "Vi använder cookies i följande kategorier.",
    cookies_table_caption: "Cookies i kategorin {category}",
    cookies_table_name: "Namn",
    cookies_table_provider: "Leverantör",
    cookies_table_duration: "Lagringstid",
    cookies_category_empty: "Vi använder för närvarande inga cookies i den här kategorin.",

    rights_heading: "Dina rättigheter",
    rights_intro: "Du har flera rättigheter enligt dataskyddsförordningen. Om du vill använda någon av dem kan du kontakta oss via kontaktuppgifterna i slutet av den här texten.",
    rights_portal: "Du kan också använda vår integritetsportal: {url}.",
    right_access_name: "Rätt till tillgång",
    right_access: "Du har rätt att få en bekräftelse på om vi behandlar personuppgifter om dig och i så fall få en kopia av uppgifterna och information om hur vi behandlar dem (artikel 15).",
    right_rectification_name: "Rätt till rättelse",
    right_rectification: "Du har rätt att få felaktiga uppgifter om dig rättade och ofullständiga uppgifter kompletterade (artikel 16).",
    right_erasure_name: "Rätt till radering",
    right_erasure: "Du har rätt att få dina uppgifter raderade, till exempel när de inte längre behövs för det ändamål som de samlades in för eller när du har tagit tillbaka ditt samtycke (artikel 17).",
    right_erasure_not_for: "Rätten gäller inte uppgifter som vi är skyldiga att spara enligt lag, det vill säga uppgifter som vi behandlar för {purposes}, så länge skyldigheten gäller.",
    right_restriction_name: "Rätt till begränsning",
    right_restriction: "Du har rätt att begära att vi begränsar behandlingen av dina uppgifter, till exempel medan vi utreder om uppgifterna är korrekta eller om du har invänt mot behandlingen. Så länge behandlingen är begränsad får vi i princip bara lagra uppgifterna (artikel 18).",
    right_objection_name: "Rätt att invända",
    right_objection: "Du har rätt att invända mot behandling som vi grundar på en intresseavvägning. Vi upphör då med behandlingen, om vi inte kan visa tvingande berättigade skäl för att fortsätta. Mot direktmarknadsföring kan du alltid invända, och då upphör vi med den (artikel 21).",
    right_objection_applies: "Hos oss gäller det {purposes}.",
    right_objection_none: "Vi behandlar för närvarande inga uppgifter med stöd av en intresseavvägning.",
    right_portability_name: "Rätt till dataportabilitet",
    right_portability: "Du har rätt att få ut de uppgifter som du själv har lämnat till oss i ett strukturerat, allmänt använt och maskinläsbart format och att föra över dem till en annan personuppgiftsansvarig (artikel 20). Rätten gäller bara uppgifter som vi behandlar med stöd av ditt samtycke eller för att fullgöra ett avtal med dig.",
    right_portability_applies: "Hos oss gäller det {purposes}.",
    right_portability_none: "Vi behandlar för närvarande inga uppgifter med stöd av samtycke eller avtal.",
    right_withdraw_name: "Rätt att ta tillbaka ditt samtycke",
    right_withdraw: "Om vi behandlar dina uppgifter med stöd av ditt samtycke kan du när som helst ta tillbaka det. Det påverkar inte lagligheten i den behandling som skedde innan du tog tillbaka samtycket (artikel 7.3).",
    right_withdraw_applies: "Hos oss gäller det {purposes}.",
    right_withdraw_cookies: "Du kan också när som helst ändra dina val för cookies.",
    rights_deadline: "Vi besvarar din begäran utan onödigt dröjsmål och senast inom en månad. Om din begäran är komplicerad eller om vi har fått många förfrågningar kan tiden förlängas med ytterligare två månader. I så fall meddelar vi dig det inom en månad och förklarar varför (artikel 12.3 i dataskyddsförordningen).",
    rights_read_more: "Om du vill veta mer om dataskyddslagstiftningen och dina rättigheter kan du läsa {link}.",
    rights_gdpr_link_text: "dataskyddsförordningen på EUR-Lex",
    rights_gdpr_url: "https://eur-lex.europa.eu/legal-content/SV/TXT/?uri=CELEX:32016R0679",
    complaint_contact_us: "Om du anser att vi behandlar dina personuppgifter i strid med dataskyddslagstiftningen ber vi dig att kontakta oss, så att vi kan rätta till det.",
    complaint_authority: "Du har också rätt att lämna klagomål till tillsynsmyndigheten, {authority}:",
    complaint_website: "Webbplats: {website}",
    complaint_email: "E-post: {email}",
    complaint_postal_address: "Postadress: {address}",

    marketing_heading: "Hur du motsätter dig direktmarknadsföring",
    marketing_intro: "Vi kan komma att använda dina kontaktuppgifter för direktmarknadsföring per {channels}.",
    marketing_none: "Vi använder inte dina personuppgifter för direktmarknadsföring.",
    marketing_opt_out: "Du kan när som helst och utan kostnad säga nej till direktmarknadsföring genom att skicka ett e-postmeddelande till {email}.",
    marketing_details_one: "Ange följande uppgift i meddelandet: {details}.",
    marketing_details_many: "Ange följande uppgifter i meddelandet: {details}.",
    marketing_link: "Du kan också använda länken längst ned i varje marknadsföringsutskick som vi skickar via e-post.",
    marketing_suppression: "Vi upphör då med direktmarknadsföringen till dig. När du har sagt nej sparar vi bara det som behövs för att vi inte ska skicka marknadsföring till dig igen.",

    contact_heading: "Kontaktuppgifter",
    contact_intro: "{controller}, organisationsnummer {org_number}, är personuppgiftsansvarig för behandlingen av dina personuppgifter. Om du har frågor eller vill använda dina rättigheter når du oss här:",
    contact_email: "E-post: {email}",
    contact_requests_email: "E-post för frågor om personuppgifter: {email}",
    contact_phone: "Telefon: {phone}",
    contact_postal_address: "Postadress: {address}",
    contact_website: "Webbplats: {website}",
    contact_portal: "Integritetsportal: {url}",
    contact_dpo: "Dataskyddsombud: {dpo}",
    contact_postal_requests: "Du kan också skicka en skriftlig begäran per post till adressen ovan.",

    article: "artikel 6.1 {letter} i dataskyddsförordningen",
    article_short: "art. 6.1 {letter}",
    basis_name_consent: "Samtycke",
    basis_name_contract: "Fullgörande av avtal",
    basis_name_legal_obligation: "Rättslig förpliktelse",
    basis_name_vital_interests: "Grundläggande intressen",
    basis_name_public_task: "Allmänt intresse eller myndighetsutövning",
    basis_name_legitimate_interest: "Intresseavvägning",
    channel_post: "post",
    channel_email: "e-post",
    channel_phone: "telefon",
    channel_sms: "sms",
    lowercase_law_names: true,
};

/// English.
pub(crate) static EN: Texts = Texts {
    and: Conjunction {
        plain: " and ",
        nested: ", and ",
        after_semicolons: "; and ",
    },
    or: Conjunction {
        plain: " or ",
        nested: ", or ",
        after_semicolons: "; or ",
    },
    quote_open: "“",
    quote_close: "”",
    month_one: "{n} month",
    months_many: "{n} months",
    purpose_one: "the purpose {purposes}",
    purposes_many: "the purposes {purposes}",

    title: "Privacy notice of {controller}",
    toc_heading: "Contents",
    footer_version: "Policy version: {version}",

    general_heading: "General",
    general_intro: "This notice explains how {controller} processes your personal data and what rights you have. It is for you if you belong to any of the following groups:",
    general_matters: "Your privacy matters to us. We want the personal data we collect about you to be stored and handled safely and securely and in line with data protection law, including the EU General Data Protection Regulation (GDPR).",
    general_ask: "Please read this notice carefully. If you have any questions about how we process your personal data, you are welcome to contact us. Our contact details are at the end of this notice.",

    controller_heading: "Controller",
    controller_text: "{controller}, organisation number {org_number}, is the controller of your personal data and is responsible for making sure that the processing complies with applicable law.",
    controller_dpo: "We have appointed a data protection officer, {dpo}, whom you can reach at {email}.",

    data_heading: "Which personal data do we process and why?",
    data_categories_intro: "Depending on how you deal with us, we process the following personal data about you:",
    special_category_marker: " (special category of personal data)",
    data_purposes_intro: "We process your personal data for the following purposes:",
    data_purposes_outro: "The next section describes, for each purpose, which data we use, the legal basis for the processing and how long we keep the data.",

    basis_heading: "Legal basis and retention",
    basis_intro: "We only process your personal data when the GDPR gives us a legal basis for it. Each purpose has one legal basis, which also decides which of your rights apply.",
    basis_table_caption: "Purposes, legal bases and retention at a glance",
    basis_table_purpose: "Purpose",
    basis_table_basis: "Legal basis",
    basis_table_retention: "Retention",
    basis_no_sensitive_no_profiling: "We do not process sensitive personal data, and we do not carry out profiling, on the basis of legitimate interest.",
    basis_subjects: "This concerns {subjects}.",
    basis_categories_intro: "Data we process for this purpose:",
    basis_contract: "Legal basis: performance of a contract ({article}). We need the data to enter into and perform our contract with you. Without it we cannot enter into or perform the contract.",
    basis_consent: "Legal basis: your consent ({article}). You can withdraw your consent at any time. This does not affect the lawfulness of the processing before you withdrew it.",
    basis_legal_obligation_with_law: "Legal basis: legal obligation ({article}). We are required to process the data under {law}.",
    basis_legal_obligation_without_law: "Legal basis: legal obligation ({article}). We are required by law to process the data.",
    basis_legitimate_interest: "Legal basis: legitimate interest ({article}).",
    legitimate_interest_flowing: "Our legitimate interest is {interest}.",
    legitimate_interest_quoted: "Our legitimate interest is as follows: {interest}",
    basis_vital_interests: "Legal basis: protecting your vital interests or those of another person ({article}).",
    basis_public_task: "Legal basis: a task carried out in the public interest or in the exercise of official authority ({article}).",
    basis_missing: "The policy states no legal basis for this purpose.",
    basis_other_law: "The processing also relies on {law}.",
    objection_general: "You have the right to object to the processing. If you do, we stop unless we can demonstrate compelling legitimate grounds that override your interests, rights and freedoms, or the processing is needed to establish, exercise or defend legal claims.",
    objection_marketing: "You can object to direct marketing at any time, and we will then always stop.",
    marketing_channels: "We send the marketing by {channels}.",
    personalised_offers: "We tailor offers and content to you based on the data listed above.",
    profiling: "This processing involves profiling: we analyse data about you automatically to evaluate aspects such as your interests or behaviour.",
    retention_sentence: "Retention: {retention}.",
    retention_after_last_activity: "{months} after you were last active with us",
    retention_after_last_activity_examples: "{months} after you were last active with us, for example {activities}",
    retention_fixed_period: "{months} from when the data was collected",
    retention_bokforingslagen: "until the end of the seventh year after the calendar year in which the financial year ended (Swedish Accounting Act, Chapter 7, Section 2)",
    retention_until_consent_withdrawn: "until you withdraw your consent",
    retention_law_and_months: "{months}, as required by {law}",
    retention_law_only: "as long as {law} requires",
    retention_months_only: "{months}, as required by law",
    retention_as_law_requires: "as long as the law requires",
    retention_missing: "not stated in the policy",
    storage_archive: "The data is archived without searchability and can only be retrieved with a specific reference and a stated reason.",

    recipients_heading: "Who do we share your personal data with?",
    recipients_never_sold: "We never sell your personal data.",
    recipients_intro: "We disclose it only to the recipients listed below, and only the data listed for each recipient.",
    recipients_none: "We do not disclose your personal data to anyone else.",
    recipient_processor: "Role: processor that processes the data on our behalf and on our instructions.",
    recipient_independent_controller: "Role: independent controller, itself responsible for how it processes the data.",
    recipient_authority: "Role: public authority that receives the data under the law.",
    recipient_condition: "We disclose data {condition}.",
    recipient_categories: "This concerns the following data: {categories}.",
    recipient_purposes: "We disclose it for {purposes}.",
    recipient_within_eea: "The data is processed within the EU/EEA.",
    recipient_third_countries: "The data is transferred to the following countries outside the EU/EEA: {countries}.",
    recipient_safeguards: "Contact us if you want to know which safeguards apply to the transfer or want a copy of them.",

    security_heading: "How do we protect your personal data?",
    security_intro: "Your privacy matters to us, so we put security first. We take technical and organisational measures to protect your data in line with the GDPR, including the following:",

    cookies_heading: "About cookies",
    cookies_intro: "When you visit our website {website}, we use cookies.",
    cookies_what_is: "A cookie is a small data file that a website stores on your computer, phone or tablet so that it can recognise the device the next time you visit. A cookie is passive and cannot spread viruses or other malicious software. In your browser's settings you can choose which cookies to allow, block or delete.",
    cookies_law: "Under the Swedish Electronic Communications Act, everyone who visits a website must be told what cookies are used for and be given the opportunity to refuse them.",
    cookies_opt_in: "We only use cookies other than strictly necessary ones if you actively accept them; you can refuse as easily as you accept, and change your mind at any time.",
    cookies_implied_by_use: "Under our policy, you are considered to consent to cookies by using the website.",
    cookies_gpc: "If your browser sends the Global Privacy Control (GPC) signal, we treat it as a refusal of all cookies other than strictly necessary ones.",
    cookies_valid_months: "We keep your choice for {months}. After that we ask you again.",
    cookies_categories_intro: "We use cookies in the following categories.",
    cookies_table_caption: "Cookies in the category {category}",
    cookies_table_name: "Name",
    cookies_table_provider: "Provider",
    cookies_table_duration: "Duration",
    cookies_category_empty: "We currently use no cookies in this category.",

    rights_heading: "Your rights",
    rights_intro: "You have several rights under the GDPR. If you want to use any of them, contact us using the details at the end of this notice.",
    rights_portal: "You can also use our privacy portal: {url}.",
    right_access_name: "Right of access",
    right_access: "You have the right to confirmation of whether we process personal data about you and, if we do, to a copy of the data and information about how we process it (Article 15).",
    right_rectification_name: "Right to rectification",
    right_rectification: "You have the right to have inaccurate data about you corrected and incomplete data completed (Article 16).",
    right_erasure_name: "Right to erasure",
    right_erasure: "You have the right to have your data erased, for example when it is no longer needed for the purpose for which it was collected or when you have withdrawn your consent (Article 17).",
    right_erasure_not_for: "This right does not cover data that the law requires us to keep, that is, data we process for {purposes}, for as long as the obligation lasts.",
    right_restriction_name: "Right to restriction",
    right_restriction: "You have the right to ask us to restrict the processing of your data, for example while we check whether the data is accurate or whether your objection to the processing is justified. While processing is restricted, we may in principle only store the data (Article 18).",
    right_objection_name: "Right to object",
    right_objection: "You have the right to object to processing that we base on legitimate interest. We then stop unless we can demonstrate compelling legitimate grounds to continue. You can always object to direct marketing, and we will then stop (Article 21).",
    right_objection_applies: "With us, this concerns {purposes}.",
    right_objection_none: "We currently process no data on the basis of legitimate interest.",
    right_portability_name: "Right to data portability",
    right_portability: "You have the right to receive the data you have provided to us in a structured, commonly used and machine-readable format and to transmit it to another controller (Article 20). This right only covers data we process on the basis of your consent or to perform a contract with you.",
    right_portability_applies: "With us, this concerns {purposes}.",
    right_portability_none: "We currently process no data on the basis of consent or a contract.",
    right_withdraw_name: "Right to withdraw consent",
    right_withdraw: "Where we process your data on the basis of your consent, you can withdraw it at any time. This does not affect the lawfulness of the processing before you withdrew your consent (Article 7(3)).",
    right_withdraw_applies: "With us, this concerns {purposes}.",
    right_withdraw_cookies: "You can also change your cookie choices at any time.",
    rights_deadline: "We answer your request without undue delay and at the latest within one month. If your request is complex or we have received many requests, this period may be extended by two further months. If so, we tell you within one month and explain why (Article 12(3) GDPR).",
    rights_read_more: "To learn more about data protection law and your rights, you can read {link}.",
    rights_gdpr_link_text: "the GDPR on EUR-Lex",
    rights_gdpr_url: "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32016R0679",
    complaint_contact_us: "If you believe that we process your personal data in breach of data protection law, please contact us so that we can put it right.",
    complaint_authority: "You also have the right to lodge a complaint with the supervisory authority, {authority}:",
    complaint_website: "Website: {website}",
    complaint_email: "E-mail: {email}",
    complaint_postal_address: "Postal address: {address}",

    marketing_heading: "How to object to direct marketing",
    marketing_intro: "We may use your contact details for direct marketing by {channels}.",
    marketing_none: "We do not use your personal data for direct marketing.",
    marketing_opt_out: "You can say no to direct marketing at any time and free of charge by sending an e-mail to {email}.",
    marketing_details_one: "Please state your {details} in the message.",
    marketing_details_many: "Please state your {details} in the message.",
    marketing_link: "You can also use the link at the bottom of every marketing e-mail we send.",
    marketing_suppression: "We will then stop sending you direct marketing. Once you have said no, we keep only what we need to make sure we do not send you marketing again.",

    contact_heading: "Contact details",
    contact_intro: "{controller}, organisation number {org_number}, is the controller of your personal data. If you have questions or want to use your rights, you can reach us here:",
    contact_email: "E-mail: {email}",
    contact_requests_email: "E-mail for questions about personal data: {email}",
    contact_phone: "Phone: {phone}",
    contact_postal_address: "Postal address: {address}",
    contact_website: "Website: {website}",
    contact_portal: "Privacy portal: {url}",
    contact_dpo: "Data protection officer: {dpo}",
    contact_postal_requests: "You can also send a written request by post to the address above.",

    article: "Article 6(1)({letter}) GDPR",
    article_short: "Art. 6(1)({letter})",
    basis_name_consent: "Consent",
    basis_name_contract: "Performance of a contract",
    basis_name_legal_obligation: "Legal obligation",
    basis_name_vital_interests: "Vital interests",
    basis_name_public_task: "Public interest or official authority",
    basis_name_legitimate_interest: "Legitimate interest",
    channel_post: "post",
    channel_email: "e-mail",
    channel_phone: "phone",
    channel_sms: "text message",
    lowercase_law_names: false,
};

/// Names of the countries most often named as third countries; others are shown by their code.
/// Columns: ISO 3166-1 alpha-2 code, Swedish, English.
pub(crate) const COUNTRIES: &[(&str, &str, &str)] = &[
    ("SE", "Sverige", "Sweden"),
    ("US", "USA", "the United States"),
    ("GB", "Storbritannien", "the United Kingdom"),
    ("CH", "Schweiz", "Switzerland"),
    ("CA", "Kanada", "Canada"),
    ("JP", "Japan", "Japan"),
    ("IN", "Indien", "India"),
    ("AU", "Australien", "Australia"),
    ("CN", "Kina", "China"),
    ("SG", "Singapore", "Singapore"),
    ("KR", "Sydkorea", "South Korea"),
    ("IL", "Israel", "Israel"),
    ("NZ", "Nya Zeeland", "New Zealand"),
    ("BR", "Brasilien", "Brazil"),
    ("UA", "Ukraina", "Ukraine"),
];

/// The name of a country in a language, or its code when we have no name for it.
pub(crate) fn country_name(lang: Lang, code: &str) -> String {
    let upper = code.trim().to_ascii_uppercase();
    COUNTRIES
        .iter()
        .find(|(c, _, _)| *c == upper)
        .map(|(_, sv, en)| match lang {
            Lang::Sv => (*sv).to_owned(),
            Lang::En => (*en).to_owned(),
        })
        .unwrap_or(upper)
}
