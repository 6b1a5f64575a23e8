//! The policy as data: everything a privacy notice promises, in a form the system can enforce.
//!
//! The types mirror `policy.toml` one to one. Maps keep the order of the file, because the
//! notice lists purposes and categories in the order the author wrote them.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A text a person reads, in Swedish and English. Both are required: a notice must exist in both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub sv: String,
    pub en: String,
}

/// The two languages every text a person reads exists in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Sv,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Sv, Lang::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Sv => "sv",
            Lang::En => "en",
        }
    }
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Sv => &self.sv,
            Lang::En => &self.en,
        }
    }
}

/// The whole policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub controller: Controller,
    /// Groups of people the data is about (customers, newsletter subscribers, visitors, …).
    pub data_subjects: IndexMap<String, DataSubjectGroup>,
    pub categories: IndexMap<String, Category>,
    /// Events that count as activity for retention rules ("purchase", "support_contact", …).
    #[serde(default)]
    pub activities: IndexMap<String, Activity>,
    pub purposes: IndexMap<String, Purpose>,
    #[serde(default)]
    pub recipients: IndexMap<String, Recipient>,
    #[serde(default)]
    pub roles: IndexMap<String, Role>,
    pub cookies: Cookies,
    pub security: Security,
    pub requests: Requests,
}

/// Who is responsible (GDPR Art. 13(1)(a)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Controller {
    pub name: String,
    /// Swedish organisationsnummer, checked by the identity-number parser.
    pub org_number: String,
    pub postal_address: PostalAddress,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    pub website: String,
    /// Data protection officer, when one is appointed (Art. 37).
    #[serde(default)]
    pub dpo: Option<ContactPoint>,
    pub supervisory_authority: SupervisoryAuthority,
    /// The month the financial year (räkenskapsår) begins in, 1–12: 7 for a broken year from
    /// 1 July to 30 June. The calendar year when left out. Bokföringslagen counts from its end.
    /// (Left out of the serialised policy when not given, so the policy version of a file
    /// without it stays what it was.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub financial_year_start_month: Option<u8>,
}

impl Controller {
    /// The financial year the books are kept in.
    pub fn financial_year(&self) -> crate::retention::FinancialYear {
        self.financial_year_start_month
            .and_then(|month| time::Month::try_from(month).ok())
            .map_or(
                crate::retention::FinancialYear::CALENDAR,
                crate::retention::FinancialYear::starting_in,
            )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    pub street: String,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContactPoint {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SupervisoryAuthority {
    pub name: String,
    pub website: String,
    #[serde(default)]
    pub postal_address: Option<PostalAddress>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DataSubjectGroup {
    pub label: Text,
    /// True for people who bought from the controller: the only group that e-mail marketing
    /// under legitimate interest may reach (Marknadsföringslagen 19 § second paragraph).
    #[serde(default)]
    pub existing_customers: bool,
    /// W3C DPV term, e.g. `dpv:Customer`.
    pub dpv: String,
}

/// A kind of personal data the controller holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub label: Text,
    /// W3C DPV personal-data term, e.g. `dpv-pd:EmailAddress`.
    pub dpv: String,
    /// How a value of this category is validated and normalised.
    pub kind: ValueKind,
    /// Special category of Art. 9(1) (health, religion, …) or Art. 10 (criminal offences).
    #[serde(default)]
    pub special: bool,
    /// Whether a lookup by this value is allowed (it gets a blind index).
    #[serde(default)]
    pub lookup: bool,
}

/// The shape of a value, which decides how it is validated and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// Personnummer, samordningsnummer or organisationsnummer (checked with Luhn).
    IdentityNumber,
    Email,
    /// Phone number, normalised to E.164.
    Phone,
    PostalAddress,
    PersonName,
    CustomerNumber,
    /// A reference to payment details held by a payment provider (never a card number).
    PaymentReference,
    IpAddress,
    /// Coordinates or a place name.
    Geolocation,
    Date,
    FreeText,
}

impl ValueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::IdentityNumber => "identity_number",
            ValueKind::Email => "email",
            ValueKind::Phone => "phone",
            ValueKind::PostalAddress => "postal_address",
            ValueKind::PersonName => "person_name",
            ValueKind::CustomerNumber => "customer_number",
            ValueKind::PaymentReference => "payment_reference",
            ValueKind::IpAddress => "ip_address",
            ValueKind::Geolocation => "geolocation",
            ValueKind::Date => "date",
            ValueKind::FreeText => "free_text",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Activity {
    pub label: Text,
}

/// Why data is processed: one legal basis, the categories it needs, how long it keeps them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub label: Text,
    pub description: Text,
    /// W3C DPV purpose term, e.g. `dpv:DirectMarketing`.
    pub dpv: String,
    /// Optional in the file so that `policy check` can say what is missing instead of failing
    /// to parse; a purpose without one is an error of the check.
    #[serde(default)]
    pub legal_basis: Option<LegalBasis>,
    /// For legal obligation: the law that imposes it (Art. 6(3)).
    #[serde(default)]
    pub law: Option<String>,
    /// For legitimate interest: the interest pursued (Art. 13(1)(d)).
    #[serde(default)]
    pub legitimate_interest: Option<Text>,
    pub data_subjects: Vec<String>,
    pub categories: Vec<String>,
    #[serde(default)]
    pub retention: Option<Retention>,
    /// Where data kept only for this purpose lives: live, or the archive without search.
    #[serde(default)]
    pub storage: Storage,
    #[serde(default)]
    pub marketing_channels: Vec<MarketingChannel>,
    /// Automated evaluation of personal aspects (Art. 4(4)).
    #[serde(default)]
    pub profiling: bool,
    /// Offers or content tailored to the person from their behaviour.
    #[serde(default)]
    pub personalised_offers: bool,
}

/// The six legal bases of GDPR Art. 6(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// Art. 6(1)(a).
    Consent,
    /// Art. 6(1)(b).
    Contract,
    /// Art. 6(1)(c).
    LegalObligation,
    /// Art. 6(1)(d).
    VitalInterests,
    /// Art. 6(1)(e).
    PublicTask,
    /// Art. 6(1)(f).
    LegitimateInterest,
}

impl LegalBasis {
    pub const ALL: [LegalBasis; 6] = [
        LegalBasis::Consent,
        LegalBasis::Contract,
        LegalBasis::LegalObligation,
        LegalBasis::VitalInterests,
        LegalBasis::PublicTask,
        LegalBasis::LegitimateInterest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LegalBasis::Consent => "consent",
            LegalBasis::Contract => "contract",
            LegalBasis::LegalObligation => "legal_obligation",
            LegalBasis::VitalInterests => "vital_interests",
            LegalBasis::PublicTask => "public_task",
            LegalBasis::LegitimateInterest => "legitimate_interest",
        }
    }

    /// The article that grants the basis.
    pub fn article(self) -> &'static str {
        match self {
            LegalBasis::Consent => "GDPR Art. 6(1)(a)",
            LegalBasis::Contract => "GDPR Art. 6(1)(b)",
            LegalBasis::LegalObligation => "GDPR Art. 6(1)(c)",
            LegalBasis::VitalInterests => "GDPR Art. 6(1)(d)",
            LegalBasis::PublicTask => "GDPR Art. 6(1)(e)",
            LegalBasis::LegitimateInterest => "GDPR Art. 6(1)(f)",
        }
    }

    /// The DPV term (GDPR extension) for the basis.
    pub fn dpv(self) -> &'static str {
        match self {
            LegalBasis::Consent => "eu-gdpr:A6-1-a",
            LegalBasis::Contract => "eu-gdpr:A6-1-b",
            LegalBasis::LegalObligation => "eu-gdpr:A6-1-c",
            LegalBasis::VitalInterests => "eu-gdpr:A6-1-d",
            LegalBasis::PublicTask => "eu-gdpr:A6-1-e",
            LegalBasis::LegitimateInterest => "eu-gdpr:A6-1-f",
        }
    }

    /// Right to data portability, Art. 20(1)(a): only consent and contract.
    pub fn allows_portability(self) -> bool {
        matches!(self, LegalBasis::Consent | LegalBasis::Contract)
    }

    /// Right to object, Art. 21(1): public task and legitimate interest.
    pub fn allows_objection(self) -> bool {
        matches!(
            self,
            LegalBasis::PublicTask | LegalBasis::LegitimateInterest
        )
    }

    /// Right to erasure does not reach data a legal obligation requires (Art. 17(3)(b)).
    pub fn allows_erasure(self) -> bool {
        !matches!(self, LegalBasis::LegalObligation | LegalBasis::PublicTask)
    }
}

/// How long a purpose keeps its data, and from when the clock runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Retention {
    /// N months after the subject's last activity of the named kinds.
    AfterLastActivity {
        months: u32,
        activities: Vec<String>,
    },
    /// A fixed period after the value was collected.
    FixedPeriod { months: u32 },
    /// Bokföringslagen (1999:1078) 7 kap. 2 §: to the end of the seventh year after the
    /// calendar year in which the financial year ended.
    Bokforingslagen,
    /// Until the subject withdraws consent.
    UntilConsentWithdrawn,
    /// "As long as the law requires": acceptable only with the law named and a period.
    AsRequiredBy {
        #[serde(default)]
        law: Option<String>,
        #[serde(default)]
        months: Option<u32>,
    },
}

/// Where a purpose's data lives while it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Storage {
    /// In the live store, searchable by those whose purpose allows it.
    #[default]
    Live,
    /// In the archive, without search index, readable only by reference and reason.
    Archive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MarketingChannel {
    Post,
    Email,
    Phone,
    Sms,
}

impl MarketingChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            MarketingChannel::Post => "post",
            MarketingChannel::Email => "email",
            MarketingChannel::Phone => "phone",
            MarketingChannel::Sms => "sms",
        }
    }

    /// Electronic channels need consent unless the customer exception applies (MFL 19 §).
    pub fn is_electronic(self) -> bool {
        matches!(self, MarketingChannel::Email | MarketingChannel::Sms)
    }
}

/// Someone data is disclosed to. There is deliberately no kind for selling data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub label: Text,
    pub kind: RecipientKind,
    pub dpv: String,
    #[serde(default)]
    pub description: Option<Text>,
    /// When disclosure happens, e.g. "when you apply for credit".
    #[serde(default)]
    pub condition: Option<Text>,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    /// Country codes outside the EU/EEA the data goes to (Art. 13(1)(f)); empty when none.
    #[serde(default)]
    pub third_countries: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// Processes on the controller's behalf under a data processing agreement (Art. 28).
    Processor,
    /// Decides its own purposes (e.g. a credit-reporting agency, a carrier).
    IndependentController,
    /// A public authority receiving data under law.
    Authority,
}

impl RecipientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientKind::Processor => "processor",
            RecipientKind::IndependentController => "independent_controller",
            RecipientKind::Authority => "authority",
        }
    }
}

/// A staff role and the purposes it may act for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub label: Text,
    pub purposes: Vec<String>,
    /// Whether staff in this role carry out data subjects' requests: the full copy (Art. 15),
    /// erasure (Art. 17), restriction (Art. 18) and objections (Art. 21). Such a request
    /// concerns all of a person's data, so it is a duty of its own, not a purpose.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub handles_requests: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Cookies {
    /// How consent to non-essential cookies is obtained.
    pub consent: CookieConsent,
    /// Whether a Global Privacy Control signal counts as refusal.
    #[serde(default)]
    pub honour_gpc: bool,
    /// How long a consent choice is kept before the visitor is asked again.
    #[serde(default)]
    pub consent_valid_months: Option<u32>,
    pub categories: IndexMap<String, CookieCategory>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CookieConsent {
    /// An active choice in a banner where refusing is as easy as accepting.
    OptIn,
    /// "Using the site counts as consent" — not valid consent (EDPB Guidelines 05/2020).
    ImpliedByUse,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CookieCategory {
    pub label: Text,
    pub description: Text,
    /// Strictly necessary cookies need no consent (LEK 9 kap. 28 § second paragraph).
    #[serde(default)]
    pub strictly_necessary: bool,
    /// The category's cookies serve marketing or share data with others: Global Privacy
    /// Control refuses it without asking. Left out of the normalised form when false, so
    /// that a policy without it keeps its version.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub markets_or_shares: bool,
    #[serde(default)]
    pub cookies: Vec<CookieInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CookieInfo {
    pub name: String,
    pub provider: String,
    pub duration: Text,
}

/// How personal data is protected (Art. 30(1)(g), Art. 32).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Security {
    pub measures: Vec<Text>,
}

/// How a data subject exercises their rights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Requests {
    /// Where requests and questions go.
    pub email: String,
    /// Whether written requests by post are accepted (at the controller's postal address).
    #[serde(default)]
    pub postal: bool,
    /// Web address of the self-service privacy portal, when there is one.
    #[serde(default)]
    pub portal_url: Option<String>,
    /// How identity is verified before a request is carried out.
    pub identity_verification: Text,
    /// Where answers are sent.
    pub response_channel: Text,
    /// What a person must give to opt out of direct marketing.
    pub marketing_opt_out: MarketingOptOut,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarketingOptOut {
    pub email: String,
    /// Categories a person must state to opt out; the fewer the better (Art. 12(2)).
    #[serde(default)]
    pub required_details: Vec<String>,
    /// An unsubscribe link in every marketing message.
    #[serde(default)]
    pub link_in_every_message: bool,
}
