fn main() {
    let path = std::env::args().nth(1).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    let mut sources = runbook::syntax::Sources::new();
    let id = sources.add(path.clone(), runbook::syntax::Origin::Memory, text.clone());
    match runbook::syntax::decode(&bytes).map_err(|e| vec![e]).and_then(runbook::syntax::parse) {
        Ok(file) => println!("{}", serde_json::to_string_pretty(&runbook::syntax::ast::without_spans(&file)).unwrap().len()),
        Err(errors) => for e in errors { println!("{:?}", sources.report(id, e)); }
    }
}
