//! The Art. 30(1) register: snapshots of the seed's CSV and JSON, and their shape.

use integritet_domain::policy::Text;
use integritet_notice::{render_ropa_csv, render_ropa_json};

use crate::seed;

#[test]
fn snapshot_csv() {
    let loaded = seed();
    insta::assert_snapshot!(
        "ropa_csv",
        render_ropa_csv(&loaded.policy, &loaded.version).unwrap()
    );
}

#[test]
fn snapshot_json() {
    let loaded = seed();
    let json = render_ropa_json(&loaded.policy, &loaded.version);
    insta::assert_snapshot!("ropa_json", serde_json::to_string_pretty(&json).unwrap());
}

#[test]
fn json_has_one_record_per_purpose_in_policy_order() {
    let loaded = seed();
    let json = render_ropa_json(&loaded.policy, &loaded.version);
    let records = json["records"].as_array().unwrap();
    assert_eq!(records.len(), loaded.policy.purposes.len());
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r["purpose"]["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = loaded.policy.purposes.keys().map(String::as_str).collect();
    assert_eq!(ids, expected);
    assert_eq!(json["policy_version"], loaded.version.as_str());
    assert_eq!(json["controller"]["name"], "Rejoin Telematics AB");
    assert_eq!(json["controller"]["org_number"], "556800-7610");
    assert_eq!(json["controller"]["email"], "webbshop@smart-telematik.se");
    assert_eq!(json["controller"]["postal_address"]["city"], "Örebro");
    for record in records {
        assert_eq!(record["policy_version"], loaded.version.as_str());
        assert_eq!(record["security_measures"].as_array().unwrap().len(), 5);
    }
}

#[test]
fn json_carries_dpv_terms() {
    let loaded = seed();
    let json = render_ropa_json(&loaded.policy, &loaded.version);
    let record = |id: &str| {
        json["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["purpose"]["id"] == id)
            .unwrap()
            .clone()
    };
    let purchase = record("purchase");
    assert_eq!(purchase["purpose"]["dpv"], "dpv:ServiceProvision");
    assert_eq!(purchase["legal_basis"]["id"], "contract");
    assert_eq!(purchase["legal_basis"]["dpv"], "eu-gdpr:A6-1-b");
    assert_eq!(purchase["legal_basis"]["article"], "GDPR Art. 6(1)(b)");
    assert_eq!(purchase["data_subjects"][0]["dpv"], "dpv:Customer");
    assert_eq!(purchase["personal_data"][0]["id"], "name");
    assert_eq!(purchase["personal_data"][0]["dpv"], "pd:Name");
    assert_eq!(purchase["personal_data"][0]["special"], false);
    assert_eq!(purchase["special_categories"], false);
    let recipients: Vec<&str> = purchase["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        recipients,
        [
            "it_suppliers",
            "distributors",
            "credit_agencies",
            "legal_advisers"
        ]
    );
    assert_eq!(purchase["recipients"][0]["dpv"], "dpv:DataProcessor");
    assert_eq!(purchase["recipients"][0]["kind"], "processor");
    assert_eq!(
        purchase["third_country_transfers"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(purchase["retention"]["rule"]["rule"], "after_last_activity");
    assert_eq!(purchase["retention"]["rule"]["months"], 36);
    assert_eq!(
        purchase["retention"]["text"]["sv"],
        "36 månader efter att du senast var aktiv hos oss, till exempel genom ett köp eller en kontakt med kundtjänst"
    );
    assert_eq!(purchase["storage"], "live");

    let bookkeeping = record("bookkeeping");
    assert_eq!(bookkeeping["legal_basis"]["dpv"], "eu-gdpr:A6-1-c");
    assert_eq!(bookkeeping["law"], "Bokföringslagen (1999:1078) 7 kap. 2 §");
    assert_eq!(bookkeeping["retention"]["rule"]["rule"], "bokforingslagen");
    assert_eq!(bookkeeping["storage"], "archive");

    let marketing = record("direct_marketing");
    assert_eq!(marketing["legal_basis"]["dpv"], "eu-gdpr:A6-1-f");
    assert!(
        marketing["legitimate_interest"]["sv"]
            .as_str()
            .unwrap()
            .contains("marknadsföringslagen")
    );
    assert_eq!(
        marketing["marketing_channels"],
        serde_json::json!(["post", "email", "phone"])
    );
}

#[test]
fn csv_parses_back_with_one_row_per_purpose_and_equal_columns() {
    let loaded = seed();
    let csv_text = render_ropa_csv(&loaded.policy, &loaded.version).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), loaded.policy.purposes.len());
    for row in &rows {
        assert_eq!(row.len(), headers.len());
    }
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let purchase = &rows[0];
    assert_eq!(&purchase[column("Purpose ID")], "purchase");
    assert_eq!(
        &purchase[column("Purpose")],
        "Purchases, invoicing and support"
    );
    assert_eq!(&purchase[column("Legal basis DPV")], "eu-gdpr:A6-1-b");
    assert_eq!(&purchase[column("Controller")], "Rejoin Telematics AB");
    assert_eq!(&purchase[column("Organisation number")], "556800-7610");
    assert_eq!(&purchase[column("Third-country transfers")], "none");
    assert_eq!(
        &purchase[column("Personal data")],
        "Name; Personal identity number, co-ordination number or organisation number; Postal address; Phone number; E-mail address; Payment details; Customer number; Purchases and order history"
    );
    assert_eq!(
        &purchase[column("Retention rule")],
        "after_last_activity months=36 activities=purchase,support_contact"
    );
    assert!(purchase[column("Security measures (Art. 32(1))")].contains("TLS"));
    assert_eq!(&purchase[column("Policy version")], loaded.version.as_str());
    let bookkeeping = rows
        .iter()
        .find(|r| &r[column("Purpose ID")] == "bookkeeping")
        .unwrap();
    assert_eq!(&bookkeeping[column("Storage")], "archive");
    assert_eq!(
        &bookkeeping[column("Law")],
        "Bokföringslagen (1999:1078) 7 kap. 2 §"
    );
}

#[test]
fn csv_quotes_awkward_text_and_names_transfers() {
    let mut policy = seed().policy;
    policy.purposes["purchase"].label = Text {
        sv: "x".into(),
        en: "Comma, \"quote\"\nand newline".into(),
    };
    policy.recipients["it_suppliers"].third_countries = vec!["US".into()];
    let version = integritet_domain::policy::PolicyVersion::of(&policy);
    let csv_text = render_ropa_csv(&policy, &version).unwrap();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), policy.purposes.len());
    let purpose = headers.iter().position(|h| h == "Purpose").unwrap();
    assert_eq!(&rows[0][purpose], "Comma, \"quote\"\nand newline");
    let transfers = headers
        .iter()
        .position(|h| h == "Third-country transfers")
        .unwrap();
    assert_eq!(
        &rows[0][transfers],
        "Our IT, hosting and payment subcontractors: US"
    );

    let json = render_ropa_json(&policy, &version);
    assert_eq!(
        json["records"][0]["third_country_transfers"],
        serde_json::json!([{ "recipient": "it_suppliers", "countries": ["US"] }])
    );
}
