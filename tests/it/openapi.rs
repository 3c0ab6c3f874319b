//! `conform import openapi` on the real Palisade description
//! (`../shared/specs/palisade-api/`): every generated schema compiles, the
//! description's examples are checked, the generated cases load and plan, a
//! re-import keeps edited files and reports what changed, and negative bodies
//! for the shipped request schemas each fail validation at their rule.

use std::fs;
use std::path::{Path, PathBuf};

use conform::case::Diagnostics;
use conform::openapi::manifest::FileOutcome;
use conform::openapi::{self, ImportOptions, negative};
use conform::schema::SchemaRegistry;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The real description, beside the repository (see its SOURCE.md).
fn palisade_spec() -> PathBuf {
    repo().join("../shared/specs/palisade-api/ripple-labs-palisade-wallet-openapi-original.yml")
}

fn load_schemas(root: &Path, suite: &str) -> (SchemaRegistry, Diagnostics) {
    let mut d = Diagnostics::default();
    let reg = SchemaRegistry::load(suite, &root.join("schemas").join(suite), &mut d);
    (reg, d)
}

#[test]
fn real_palisade_description_imports_compiles_and_plans() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let report = openapi::import(&palisade_spec(), "pal", root).expect("the description imports");
    println!("{report}");

    assert_eq!(report.component_schemas, 345);
    assert_eq!(report.operations, 83);
    assert!(report.first_import);
    let (reg, d) = load_schemas(root, "pal");
    assert!(d.is_empty(), "every generated schema compiles:\n{d}");
    assert_eq!(
        reg.names().count(),
        report.component_schemas + report.inline_schemas
    );

    // The description's examples against the generated schemas.
    let failing: Vec<String> = report.failing_examples().map(ToString::to_string).collect();
    println!(
        "examples: {} checked, {} failing:\n{}",
        report.examples.len(),
        failing.len(),
        failing.join("\n")
    );
    assert_eq!(report.examples.len(), 741);
    // All 13 are the description's own mistakes: booleans written as strings, enum
    // examples the enum does not list (one a typo), and snake_case names where the
    // referenced schema requires camelCase.
    let pointers: Vec<&str> = report
        .failing_examples()
        .map(|e| e.pointer.as_str())
        .collect();
    let s = "#/components/schemas";
    assert_eq!(
        pointers,
        [
            format!("{s}/approvalv2Summary/properties/status/allOf/1/example"),
            format!("{s}/counterpartyv2Address/properties/status/allOf/1/example"),
            format!("{s}/transactionsv2Transaction/properties/signOnly/example"),
            format!("{s}/v2Credential/properties/category/allOf/1/example"),
            format!("{s}/v2Credential/properties/status/allOf/1/example"),
            format!("{s}/v2Device/properties/deleted/example"),
            format!("{s}/v2FeeEstimate/properties/evm/allOf/1/example"),
            format!("{s}/v2WalletLimit/properties/status/allOf/1/example"),
            format!("{s}/v2WalletSettings/properties/enabled/example"),
            format!("{s}/v2WalletSettings/properties/rawSigningEnabled/example"),
            format!("{s}/v2WalletSettings/properties/sweepingEnabled/example"),
            format!("{s}/v2WalletSettings/properties/defaultFreezeEnabled/example"),
            format!("{s}/vaultv2Wallet/properties/keyAlgorithm/allOf/1/example"),
        ],
        "{failing:#?}"
    );

    // Generated cases load and plan with conform's own loader.
    let planned = conform::app::load_and_plan(&root.join("cases")).expect("generated cases plan");
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0].cases.len(), 83);
    assert!(
        planned[0]
            .cases
            .iter()
            .all(|c| c.tags.iter().any(|t| t == "todo"))
    );
    // The operation list is valid for coverage.
    let catalog = conform::coverage::load_dir(&root.join("cases")).expect("operations.yaml loads");
    let ops = catalog.get("pal").expect("the suite declares operations");
    assert!(ops.operations.len() >= 80, "{}", ops.operations.len());

    let suite = fs::read_to_string(root.join("cases/pal/suite.yaml")).unwrap();
    assert!(suite.contains("env: PAL_API_KEY"), "{suite}");
    assert!(
        suite.contains("url: \"https://api.sandbox.palisade.co\""),
        "{suite}"
    );
    assert!(suite.contains("todo_vaultId: TODO"), "{suite}");
}

#[test]
fn reimport_keeps_edited_cases_and_reports_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let opts = ImportOptions {
        check_examples: false,
        generate_negative: false,
    };
    openapi::import_with(&palisade_spec(), "pal", root, &opts).unwrap();

    // Same description again: nothing changes.
    let again = openapi::import_with(&palisade_spec(), "pal", root, &opts).unwrap();
    assert!(!again.first_import);
    assert!(again.schema_changes.is_empty(), "{again}");
    assert!(again.operation_changes.is_empty(), "{again}");
    assert!(
        again
            .files
            .iter()
            .all(|(_, o)| *o == FileOutcome::Unchanged),
        "{again}"
    );

    // A user edits a case file; the description changes one schema and drops an operation.
    let edited = root.join("cases/pal/generated-vaults.yaml");
    let mut text = fs::read_to_string(&edited).unwrap();
    text.push_str("# my notes\n");
    fs::write(&edited, &text).unwrap();
    let spec = fs::read_to_string(palisade_spec()).unwrap();
    let anchor =
        "    v2User:\n      type: object\n      properties:\n        id:\n          type: string\n";
    assert!(spec.contains(anchor), "the v2User anchor moved");
    let spec = spec.replacen(anchor, &format!("{anchor}          minLength: 1\n"), 1);
    let spec = spec.replacen(
        "  /v2/addresses:\n    get:\n",
        "  /v2/addresses-old:\n    get:\n",
        1,
    );
    let changed_spec = root.join("changed.yml");
    fs::write(&changed_spec, spec).unwrap();

    let report = openapi::import_with(&changed_spec, "pal", root, &opts).unwrap();
    println!("{report}");
    assert_eq!(
        report.schema_changes.changed,
        [(
            "v2User".to_owned(),
            "/properties/id/minLength added".to_owned()
        )],
        "{report}"
    );
    assert_eq!(report.schema_changes.unchanged, 379, "{report}");
    assert_eq!(report.operation_changes.added, ["GET /v2/addresses-old"]);
    assert_eq!(report.operation_changes.removed, ["GET /v2/addresses"]);
    assert_eq!(
        fs::read_to_string(&edited).unwrap(),
        text,
        "the edited file is left alone"
    );
    let kept: Vec<(&str, &str)> = report.kept().collect();
    assert_eq!(
        kept,
        [(
            "cases/pal/generated-vaults.yaml",
            "cases/pal/generated-vaults.yaml.new"
        )]
    );
    assert!(root.join("cases/pal/generated-vaults.yaml.new").is_file());
    let updated: Vec<&str> = report
        .files
        .iter()
        .filter(|(_, o)| *o == FileOutcome::Updated)
        .map(|(f, _)| f.as_str())
        .collect();
    assert_eq!(
        updated,
        [
            "schemas/pal/v2User.json",
            "cases/pal/operations.yaml",
            "cases/pal/generated-addresses.yaml"
        ],
        "only what the change touches is rewritten"
    );
    let shown = report.to_string();
    assert!(
        shown.contains("changed: v2User: /properties/id/minLength added"),
        "{shown}"
    );
    assert!(shown.contains("generated-vaults.yaml.new"), "{shown}");
    // Still loads: `.new` files are not case files.
    conform::app::load_and_plan(&root.join("cases")).expect("cases still plan");
}

#[test]
fn negative_bodies_of_shipped_request_schemas_fail_at_their_rule() {
    for (suite, name, expected) in [
        (
            "palisade",
            "v2CreateUserRequest",
            &[
                "required field `email` removed",
                "field `firstName` given a wrong JSON type (integer instead of string)",
                "field `roles[0]` given a value outside its enum (\"ADMINISTRATOR_UNLISTED\")",
            ][..],
        ),
        (
            "palisade",
            "v2UpdateUserStatusRequest",
            &[
                "required field `status` removed",
                "field `status` given a value outside its enum (\"CREATED_UNLISTED\")",
                "field `reason` given a wrong JSON type (integer instead of string)",
            ][..],
        ),
        (
            "ledger-enterprise",
            "CreateApiUserRequest",
            &[
                "required field `name` removed",
                "field `name`: pattern `^[A-Za-z0-9_]{1,20}$` (one longer than its longest match): 21 characters (invalid)",
                "field `name`: pattern `^[A-Za-z0-9_]{1,20}$` (longest match): 20 characters (boundary, valid)",
                "field `name`: pattern `^[A-Za-z0-9_]{1,20}$`: character `!` it does not allow (invalid)",
            ][..],
        ),
    ] {
        let (reg, d) = load_schemas(repo(), suite);
        assert!(d.is_empty(), "{d}");
        let checked = negative::check(&reg, name);
        assert!(checked.dropped.is_empty(), "{name}: {:?}", checked.dropped);
        let rules: Vec<&str> = checked.kept.iter().map(|b| b.rule.as_str()).collect();
        println!("{name}:\n  {}", rules.join("\n  "));
        for want in expected {
            assert!(rules.contains(want), "{name}: no `{want}` in {rules:#?}");
        }
        for b in &checked.kept {
            let violations = reg.validate(name, &b.body);
            assert_eq!(
                violations.is_empty(),
                b.valid,
                "{name}: {}: {violations:?}",
                b.rule
            );
        }
    }
}

#[test]
fn negative_cases_are_generated_and_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let opts = ImportOptions {
        check_examples: false,
        generate_negative: true,
    };
    let report = openapi::import_with(&palisade_spec(), "pal", root, &opts).unwrap();
    let kept: usize = report.negative.iter().map(|n| n.checked.kept.len()).sum();
    let dropped: usize = report
        .negative
        .iter()
        .map(|n| n.checked.dropped.len())
        .sum();
    println!("{report}");
    assert!(report.negative.len() >= 30, "{}", report.negative.len());
    assert!(kept > 100, "{kept}");
    assert_eq!(dropped, 0, "{report}");
    let planned = conform::app::load_and_plan(&root.join("cases")).expect("negative cases plan");
    let negative = planned[0]
        .cases
        .iter()
        .filter(|c| c.tags.iter().any(|t| t == "negative"))
        .count();
    assert_eq!(negative, kept);
}

/// OpenAPI 3.1 as JSON: schemas pass through with refs rewritten, bearer auth,
/// an undeclared path parameter, an inline response, no tags.
#[test]
fn openapi_31_json_imports_and_plans() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let spec = r##"{
      "openapi": "3.1.0",
      "info": {"title": "Pets", "version": "1"},
      "servers": [{"url": "https://staging.pets.example/api"}, {"url": "/relative"}],
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
          "Pet": {"type": "object", "required": ["name"], "x-internal": 1,
                  "properties": {"name": {"type": "string", "pattern": "^[a-z]{1,8}$", "examples": ["rex"]},
                                 "tag": {"type": ["string", "null"]},
                                 "kind": {"$ref": "#/components/schemas/Kind"}}},
          "Kind": {"enum": ["dog", "cat"]}
        }
      },
      "security": [{"bearer": []}],
      "paths": {
        "/pets/{petId}": {"put": {
          "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
          "responses": {"201": {"description": "ok", "content": {"application/json": {
            "schema": {"type": "object", "properties": {"pet": {"$ref": "#/components/schemas/Pet"}}}}}}}
        }}
      }
    }"##;
    let spec_path = root.join("pets.json");
    fs::write(&spec_path, spec).unwrap();
    let opts = ImportOptions {
        check_examples: true,
        generate_negative: true,
    };
    let report = openapi::import_with(&spec_path, "pets", root, &opts).unwrap();
    println!("{report}");
    assert_eq!((report.component_schemas, report.inline_schemas), (2, 1));
    assert_eq!(report.failing_examples().count(), 0, "{report}");
    assert!(
        report.warnings.iter().any(|w| w.contains("/relative")),
        "{report}"
    );
    let pet: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(root.join("schemas/pets/Pet.json")).unwrap())
            .unwrap();
    assert_eq!(
        pet["properties"]["kind"],
        serde_json::json!({"$ref": "Kind.json"})
    );
    assert!(pet.get("x-internal").is_none());
    let suite = fs::read_to_string(root.join("cases/pets/suite.yaml")).unwrap();
    assert!(suite.contains("prefix: \"Bearer \""), "{suite}");
    assert!(suite.contains("todo_petId: TODO"), "{suite}");
    assert!(
        !suite.contains("read_only"),
        "a staging server is writable: {suite}"
    );
    let cases = fs::read_to_string(root.join("cases/pets/generated-pets.yaml")).unwrap();
    assert!(cases.contains("path: \"/pets/{{todo_petId}}\""), "{cases}");
    assert!(cases.contains("status: 201"), "{cases}");
    assert!(
        cases.contains("schema: \"put_pets_petIdResponse\""),
        "{cases}"
    );
    let rules: Vec<&str> = report.negative[0]
        .checked
        .kept
        .iter()
        .map(|b| b.rule.as_str())
        .collect();
    assert!(
        rules.contains(&"field `kind` given a value outside its enum (\"dog_UNLISTED\")"),
        "{rules:#?}"
    );
    assert!(
        rules.contains(
            &"field `name`: pattern `^[a-z]{1,8}$`: character `!` it does not allow (invalid)"
        ),
        "{rules:#?}"
    );
    conform::app::load_and_plan(&root.join("cases")).expect("the imported suite plans");
}
