//! What a user sees for a bad inventory: file, line, column, the excerpt
//! with a label, the code and a help line.

use miette::{GraphicalReportHandler, GraphicalTheme};
use runbook::connect::Inventory;

fn render(text: &str) -> String {
    let error = Inventory::parse("inventory.toml", text).expect_err("invalid");
    let mut out = String::new();
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .with_links(false)
        .render_report(&mut out, &error)
        .expect("render");
    out
}

const HEAD: &str = "[api]\nurl = \"https://mgt-1.example.net:8082\"\napi_key_env = \"SMC_API_KEY\"\n\n[[servers]]\nname = \"mgt-1\"\nhost = \"mgt-1.example.net\"\n\n";

#[test]
fn a_shell_string_command() {
    insta::assert_snapshot!(render(&format!(
        "{HEAD}[console]\nstop = \"systemctl stop sgMgtServer; true\"\n"
    )));
}

#[test]
fn a_typo_in_a_key() {
    insta::assert_snapshot!(render(&format!("{HEAD}[tls]\nverfy = false\n")));
}

#[test]
fn a_duplicate_server() {
    insta::assert_snapshot!(render(&format!(
        "{HEAD}[[servers]]\nname = \"mgt-1\"\nhost = \"other\"\n"
    )));
}

#[test]
fn an_unknown_placeholder() {
    insta::assert_snapshot!(render(&format!(
        "{HEAD}[console]\nupgrade = [\"ssh\", \"{{host}}\", \"installer\", \"{{release}}\"]\n"
    )));
}

/// A host that would become an option of the console command (`ssh
/// -oProxyCommand=…`) is refused where it is written.
#[test]
fn a_host_that_would_be_an_option() {
    let rendered = render(
        "[api]\nurl = \"https://mgt-1.example.net:8082\"\napi_key_env = \"SMC_API_KEY\"\n\n[[servers]]\nname = \"mgt-1\"\nhost = \"-oProxyCommand=touch /tmp/owned\"\n",
    );
    assert!(rendered.contains("inventory.toml:7:8"), "{rendered}");
    assert!(rendered.contains("begins with `-`"), "{rendered}");
    let name = render(
        "[api]\nurl = \"https://mgt-1.example.net:8082\"\napi_key_env = \"SMC_API_KEY\"\n\n[[servers]]\nname = \"--help\"\nhost = \"h\"\n",
    );
    assert!(name.contains("inventory.toml:6:8"), "{name}");
}

/// A credential written in a URL of the inventory never shows: not in the
/// excerpt around the error, not in a message quoting the value; the
/// location is still exact.
#[test]
fn a_password_in_an_inventory_url_is_masked() {
    let near = render(
        "[api]\nurl = \"https://admin:hunter2@mgt-1.example.net:8082\"\napi_key_evn = \"SMC_API_KEY\"\n\n[[servers]]\nname = \"mgt-1\"\nhost = \"h\"\n",
    );
    assert!(!near.contains("hunter2"), "{near}");
    assert!(
        near.contains("https://*************@mgt-1.example.net:8082"),
        "{near}"
    );
    assert!(near.contains("inventory.toml:3:1"), "{near}");
    let quoted = render(&format!(
        "{HEAD}[[servers]]\nname = \"mgt-2\"\nhost = \"h2\"\nversion = \"https://admin:hunter2@x\"\n"
    ));
    assert!(!quoted.contains("hunter2"), "{quoted}");
    assert!(quoted.contains("inventory.toml:12:"), "{quoted}");
}
