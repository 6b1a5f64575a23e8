//! Every text of the public pages, in Swedish and English, in one place: a typed table, so a
//! text missing in one language does not compile.

use axum::http::{HeaderMap, header};
use integritet_domain::policy::Lang;

/// The texts of the public pages in one language.
#[derive(Debug, Clone, Copy)]
pub struct PageTexts {
    pub unsubscribe_title: &'static str,
    /// "Do you no longer want {what}?"
    unsubscribe_question: (&'static str, &'static str),
    pub unsubscribe_button: &'static str,
    pub unsubscribed_title: &'static str,
    /// "You will get no more {what}."
    unsubscribed: (&'static str, &'static str),
    pub link_spent_title: &'static str,
    /// "… write to {address} …"
    link_spent: (&'static str, &'static str),
    pub link_invalid_title: &'static str,
    link_invalid: (&'static str, &'static str),
    pub by_email: &'static str,
    pub by_sms: &'static str,
    pub by_phone: &'static str,
    pub by_post: &'static str,
    /// The link to this page in this language, written in this language.
    pub in_this_language: &'static str,
}

impl PageTexts {
    pub fn unsubscribe_question(&self, what: &str) -> String {
        join(self.unsubscribe_question, what)
    }

    pub fn unsubscribed(&self, what: &str) -> String {
        join(self.unsubscribed, what)
    }

    pub fn link_spent(&self, address: &str) -> String {
        join(self.link_spent, address)
    }

    pub fn link_invalid(&self, address: &str) -> String {
        join(self.link_invalid, address)
    }
}

fn join((before, after): (&str, &str), middle: &str) -> String {
    format!("{before}{middle}{after}")
}

const SV: PageTexts = PageTexts {
    unsubscribe_title: "Avsluta utskick",
    unsubscribe_question: (
        "Vill du inte längre få ",
        "? Tryck på knappen, så slutar vi direkt.",
    ),
    unsubscribe_button: "Avsluta utskicken",
    unsubscribed_title: "Klart",
    unsubscribed: (
        "Du får inte längre ",
        ". Vi har noterat att du inte vill ha marknadsföring från oss, och det gäller även om du blir kund igen.",
    ),
    link_spent_title: "Länken är redan använd",
    link_spent: (
        "Den här länken har redan använts eller dragits tillbaka. Får du ändå utskick, skriv till ",
        " så stoppar vi dem.",
    ),
    link_invalid_title: "Länken fungerar inte",
    link_invalid: (
        "Länken är inte giltig. Kontrollera att hela länken kom med, eller skriv till ",
        " så stoppar vi utskicken.",
    ),
    by_email: "via e-post",
    by_sms: "via sms",
    by_phone: "via telefon",
    by_post: "via post",
    in_this_language: "På svenska",
};

const EN: PageTexts = PageTexts {
    unsubscribe_title: "Unsubscribe",
    unsubscribe_question: (
        "Do you no longer want ",
        "? Press the button and we stop at once.",
    ),
    unsubscribe_button: "Unsubscribe",
    unsubscribed_title: "Done",
    unsubscribed: (
        "You will no longer get ",
        ". We have noted that you want no marketing from us, and that holds even if you become a customer again.",
    ),
    link_spent_title: "This link has been used",
    link_spent: (
        "This link was used or withdrawn already. If messages still reach you, write to ",
        " and we will stop them.",
    ),
    link_invalid_title: "This link does not work",
    link_invalid: (
        "The link is not valid. Check that the whole link came along, or write to ",
        " and we will stop the messages.",
    ),
    by_email: "by e-mail",
    by_sms: "by text message",
    by_phone: "by phone",
    by_post: "by post",
    in_this_language: "In English",
};

/// The cookie banner's own texts (the categories' come from the policy).
#[derive(Debug, Clone, Copy)]
pub struct BannerTexts {
    pub title: &'static str,
    pub body: &'static str,
    pub accept: &'static str,
    pub reject: &'static str,
    pub settings: &'static str,
    pub save: &'static str,
    pub categories: &'static str,
    /// After a category that Global Privacy Control refused.
    pub gpc: &'static str,
    /// Asked before accepting what Global Privacy Control refused.
    pub gpc_confirm: &'static str,
}

const BANNER_SV: BannerTexts = BannerTexts {
    title: "Cookies på webbplatsen",
    body: "Vi använder cookies som behövs för att webbplatsen ska fungera. Andra cookies använder vi bara om du säger ja. Du kan ändra dig när som helst.",
    accept: "Acceptera alla",
    reject: "Neka alla",
    settings: "Välj själv",
    save: "Spara mitt val",
    categories: "Kategorier",
    gpc: "Din webbläsare ber oss att inte göra detta (Global Privacy Control), så det är avstängt.",
    gpc_confirm: "Din webbläsare ber oss att inte dela eller använda dina uppgifter för marknadsföring. Vill du ändå tillåta det?",
};

const BANNER_EN: BannerTexts = BannerTexts {
    title: "Cookies on this website",
    body: "We use the cookies the website needs to work. Other cookies we use only if you say yes. You can change your mind at any time.",
    accept: "Accept all",
    reject: "Reject all",
    settings: "Choose",
    save: "Save my choice",
    categories: "Categories",
    gpc: "Your browser asks us not to do this (Global Privacy Control), so it is off.",
    gpc_confirm: "Your browser asks us not to share or use your data for marketing. Allow it anyway?",
};

pub fn banner(lang: Lang) -> BannerTexts {
    match lang {
        Lang::Sv => BANNER_SV,
        Lang::En => BANNER_EN,
    }
}

pub fn of(lang: Lang) -> PageTexts {
    match lang {
        Lang::Sv => SV,
        Lang::En => EN,
    }
}

/// The language a browser asks for first among ours (`Accept-Language`); Swedish otherwise.
pub fn from_headers(headers: &HeaderMap) -> Lang {
    let Some(accept) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Lang::Sv;
    };
    let mut best: Option<(f32, Lang)> = None;
    for item in accept.split(',') {
        let mut parts = item.trim().split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let lang = match tag.split('-').next().unwrap_or("") {
            "sv" => Lang::Sv,
            "en" => Lang::En,
            _ => continue,
        };
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, lang));
        }
    }
    best.map_or(Lang::Sv, |(_, lang)| lang)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_browser_chooses_among_our_languages() {
        let mut headers = HeaderMap::new();
        assert_eq!(from_headers(&headers), Lang::Sv);
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("de-DE, en-GB;q=0.8, sv;q=0.5"),
        );
        assert_eq!(from_headers(&headers), Lang::En);
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("fi, de"));
        assert_eq!(from_headers(&headers), Lang::Sv);
    }
}
