//! Organisationsnummer.

use std::fmt;
use std::hash::{Hash, Hasher};

use time::Date;

use super::lex::{self, Lexed, Separator};
use super::{IdentityError, IdentityKind, Personnummer};

/// The prefix a 12-digit organisationsnummer carries.
const ORGANISATION_PREFIX: u8 = 16;

/// A Swedish organisation number (*organisationsnummer*).
///
/// Either a legal person's number — 10 digits whose third and fourth digits are 20 or more,
/// the first digit giving the [`LegalForm`] — or, for a sole trader (*enskild firma*), the
/// owner's personnummer or samordningsnummer, which serves as its organisationsnummer.
///
/// [`Display`](fmt::Display) and serde give [`Organisationsnummer::long_form`];
/// [`Debug`](fmt::Debug) shows only the legal form.
#[derive(Clone, Copy)]
pub struct Organisationsnummer {
    /// The 10-digit form.
    digits: [u8; 10],
    /// For a sole trader: the owner's personnummer.
    owner: Option<Personnummer>,
    /// For a sole trader: whether the owner was 100 or older at the reference date, which
    /// makes the long form `YYMMDD+XXXX`.
    centenarian: bool,
}

/// The legal form of an organisation, from the first digit of its organisationsnummer (the
/// group number), or [`LegalForm::SoleTrader`] when the number is a personnummer.
///
/// [`LegalForm::as_str`] gives the names of the `organisationsnummer/meta` specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LegalForm {
    /// 1: *Dödsbon* — estates of deceased persons.
    Estate,
    /// 2: *Stat, landsting, kommun eller församling* — the state, regions, municipalities,
    /// parishes.
    Public,
    /// 3: *Utländska företag som bedriver näringsverksamhet eller äger fastigheter i Sverige* —
    /// foreign companies trading or owning real estate in Sweden.
    ForeignCompany,
    /// 4: *Okänt* — a group number not in use.
    Unknown,
    /// 5: *Aktiebolag* — limited companies.
    LimitedCompany,
    /// 6: *Enkelt bolag* — simple partnerships.
    SimplePartnership,
    /// 7: *Ekonomisk förening eller bostadsrättsförening* — economic associations and housing
    /// cooperatives.
    EconomicAssociation,
    /// 8: *Ideella förening och stiftelse* — non-profit associations and foundations.
    NonProfitAssociation,
    /// 9: *Handelsbolag, kommanditbolag och enkelt bolag* — trading and limited partnerships.
    TradingPartnership,
    /// *Enskild firma* — a sole trader, whose organisationsnummer is the owner's personnummer.
    SoleTrader,
}

impl LegalForm {
    /// The Swedish name, exactly as in the `organisationsnummer/meta` specification
    /// (e.g. `"Aktiebolag"`, `"Enskild firma"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Estate => "Dödsbon",
            Self::Public => "Stat, landsting, kommun eller församling",
            Self::ForeignCompany => {
                "Utländska företag som bedriver näringsverksamhet eller äger fastigheter i Sverige"
            }
            Self::Unknown => "Okänt",
            Self::LimitedCompany => "Aktiebolag",
            Self::SimplePartnership => "Enkelt bolag",
            Self::EconomicAssociation => "Ekonomisk förening eller bostadsrättsförening",
            Self::NonProfitAssociation => "Ideella förening och stiftelse",
            Self::TradingPartnership => "Handelsbolag, kommanditbolag och enkelt bolag",
            Self::SoleTrader => "Enskild firma",
        }
    }

    /// The legal form of a legal person's organisationsnummer starting with `digit`; `None` for
    /// 0 (never issued) and anything above 9.
    #[must_use]
    pub const fn from_group_number(digit: u8) -> Option<Self> {
        Some(match digit {
            1 => Self::Estate,
            2 => Self::Public,
            3 => Self::ForeignCompany,
            4 => Self::Unknown,
            5 => Self::LimitedCompany,
            6 => Self::SimplePartnership,
            7 => Self::EconomicAssociation,
            8 => Self::NonProfitAssociation,
            9 => Self::TradingPartnership,
            _ => return None,
        })
    }
}

impl fmt::Display for LegalForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for LegalForm {
    /// As [`LegalForm::as_str`].
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Organisationsnummer {
    /// Parses an organisationsnummer: `NNNNNN-NNNN`, `NNNNNNNNNN`, or either prefixed with
    /// `16` (`16NNNNNNNNNN`, `16NNNNNN-NNNN`), surrounding whitespace ignored. A personnummer or
    /// samordningsnummer in any of the forms [`Personnummer::parse`] reads is accepted too, as
    /// the organisationsnummer of a sole trader ([`LegalForm::SoleTrader`]); `reference`
    /// serves only that case (century inference and the `+` of the long form).
    ///
    /// # Errors
    ///
    /// An [`IdentityError`]: the shape, [`IdentityError::NotOrganisationsnummer`] when the
    /// third and fourth digits are below 20 and it is no personnummer either, a bad prefix or
    /// group number, `+` in a legal person's number, or the check digit.
    pub fn parse(input: &str, reference: Date) -> Result<Self, IdentityError> {
        let lexed = lex::lex(input)?;
        match (lexed.prefix, lexed.looks_like_organisation()) {
            (None | Some(ORGANISATION_PREFIX), true) => Self::legal_from_lexed(&lexed),
            (Some(prefix), true) => Err(IdentityError::BadPrefix { prefix }),
            (Some(ORGANISATION_PREFIX), false) => Err(IdentityError::NotOrganisationsnummer),
            (_, false) => match Personnummer::from_lexed(&lexed, reference) {
                Ok(owner) => Ok(Self::sole_trader(owner, reference)),
                Err(IdentityError::NoSuchDate { .. }) => Err(IdentityError::NotOrganisationsnummer),
                Err(other) => Err(other),
            },
        }
    }

    /// The organisationsnummer of a sole trader (*enskild firma*) owned by `owner`: the owner's
    /// personnummer. `reference` decides whether the long form shows `+` (owner aged 100 or
    /// more).
    #[must_use]
    pub fn sole_trader(owner: Personnummer, reference: Date) -> Self {
        Self {
            digits: owner.ten_digits(),
            owner: Some(owner),
            centenarian: owner.max_age_at(reference) >= 100,
        }
    }

    /// Reads a legal person's number from lexed input (third and fourth digits 20 or more).
    pub(crate) fn legal_from_lexed(lexed: &Lexed) -> Result<Self, IdentityError> {
        match lexed.prefix {
            None | Some(ORGANISATION_PREFIX) => {}
            Some(prefix) => return Err(IdentityError::BadPrefix { prefix }),
        }
        if !lexed.looks_like_organisation() {
            return Err(IdentityError::NotOrganisationsnummer);
        }
        if lexed.separator == Some(Separator::Plus) {
            return Err(IdentityError::PlusInOrganisationsnummer);
        }
        let [group, ..] = lexed.digits;
        if group == 0 {
            return Err(IdentityError::BadGroupNumber);
        }
        lex::check_luhn(&lexed.digits)?;
        Ok(Self {
            digits: lexed.digits,
            owner: None,
            centenarian: false,
        })
    }

    /// Always [`IdentityKind::Organisationsnummer`], also for a sole trader.
    #[must_use]
    pub const fn kind(&self) -> IdentityKind {
        IdentityKind::Organisationsnummer
    }

    /// The legal form: from the first digit, or [`LegalForm::SoleTrader`].
    #[must_use]
    pub fn legal_form(&self) -> LegalForm {
        if self.owner.is_some() {
            return LegalForm::SoleTrader;
        }
        let [group, ..] = self.digits;
        LegalForm::from_group_number(group).unwrap_or(LegalForm::Unknown)
    }

    /// For a sole trader, the owner's personnummer; `None` for a legal person.
    #[must_use]
    pub const fn personnummer(&self) -> Option<&Personnummer> {
        self.owner.as_ref()
    }

    /// Whether this is a sole trader's number, i.e. a personnummer.
    #[must_use]
    pub const fn is_personnummer(&self) -> bool {
        self.owner.is_some()
    }

    /// The normalised form `NNNNNN-NNNN`; for a sole trader the owner's number as
    /// `YYMMDD-XXXX`, or `YYMMDD+XXXX` if the owner was 100 or older at the reference date it
    /// was parsed at.
    #[must_use]
    pub fn long_form(&self) -> String {
        let (head, tail) = self.digits.split_at(6);
        let mut out = String::with_capacity(11);
        lex::push_digits(&mut out, head);
        out.push(if self.centenarian { '+' } else { '-' });
        lex::push_digits(&mut out, tail);
        out
    }

    /// The 10 digits without separator, `NNNNNNNNNN`.
    #[must_use]
    pub fn digits(&self) -> String {
        let mut out = String::with_capacity(10);
        lex::push_digits(&mut out, &self.digits);
        out
    }

    /// The Swedish VAT number (*momsregistreringsnummer*): `SE`, the 10 digits, `01`.
    #[must_use]
    pub fn vat_number(&self) -> String {
        format!("SE{}01", self.digits())
    }
}

impl PartialEq for Organisationsnummer {
    /// The same number, whatever reference date it was parsed at.
    fn eq(&self, other: &Self) -> bool {
        self.digits == other.digits && self.owner == other.owner
    }
}

impl Eq for Organisationsnummer {}

impl Hash for Organisationsnummer {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.digits.hash(state);
        self.owner.hash(state);
    }
}

impl fmt::Display for Organisationsnummer {
    /// [`Organisationsnummer::long_form`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.long_form())
    }
}

impl fmt::Debug for Organisationsnummer {
    /// Redacted: `Organisationsnummer(Aktiebolag, ******-****)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Organisationsnummer({}, ******-****)", self.legal_form())
    }
}

impl serde::Serialize for Organisationsnummer {
    /// As [`Organisationsnummer::long_form`].
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
