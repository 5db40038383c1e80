//! `runbook lsp`: a language server over any [`lsp_server::Connection`]
//! (the CLI gives it stdio), synchronous, one request at a time.
//!
//! Open documents are kept with their last analysis ([`analysis`]: the
//! findings of `runbook check`, the syntax tree and the imports); every
//! change re-analyses the document and publishes its diagnostics. The
//! capabilities, one file each:
//! - [`diagnostics`]: findings as protocol diagnostics (UTF-16 positions,
//!   [`position`]);
//! - [`hover`]: operations, arguments, procedures, steps, What-ifs, fields,
//!   functions, and diagnostic codes in comments;
//! - [`definition`]: callees, imports, steps named in `within … after`,
//!   `during` and `failed(…)`, variables and parameters;
//! - [`completion`]: keywords, operations with their named arguments, step
//!   ids, callees, parameters and bindings, fields;
//! - [`formatting`]: `runbook fmt`'s layout;
//! - [`symbols`]: the outline (parameters, steps, prompts with options,
//!   What-ifs).
//!
//! The lint rules expose no fixes, so the server offers no code actions.
//! No input makes it panic; should a handler panic all the same, that
//! request fails with an internal error and the server keeps answering.

pub mod analysis;
pub mod completion;
pub mod definition;
pub mod diagnostics;
pub mod formatting;
pub mod hover;
pub mod index;
pub mod position;
pub mod symbols;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use lsp_server::{Connection, ErrorCode, Message, Notification, ProtocolError, Request, Response};
use lsp_types::{
    CompletionOptions, CompletionParams, CompletionResponse, DidChangeTextDocumentParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DocumentFormattingParams,
    DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams, GotoDefinitionResponse,
    HoverParams, HoverProviderCapability, InitializeResult, OneOf, PublishDiagnosticsParams,
    ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind, Url,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::syntax::ast::File;
use analysis::{analyse, Analysis, Overlay};
use position::Text;

/// One open document.
#[derive(Debug, Clone)]
struct Document {
    text: String,
    version: i32,
    analysis: Analysis,
    /// The last syntax tree of this document that parsed, for completion
    /// while the text does not.
    last_good: Option<Arc<File>>,
}

/// The server's state: the open documents and what the client can take.
#[derive(Debug, Default)]
pub struct Server {
    documents: HashMap<Url, Document>,
    completion: completion::Options,
}

/// What the server can do, as announced to the client.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_owned(), "(".to_owned(), ",".to_owned()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// Why the server stopped talking to its client.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The client broke the protocol (or went away while initializing or
    /// shutting down).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The connection closed while the server was answering.
    #[error("the client closed the connection")]
    Disconnected,
}

/// Runs the server on `connection` until the client shuts it down (`Ok`
/// with `true`) or goes away (`Ok` with `false`: no `shutdown` came).
///
/// # Errors
/// When the connection fails (the client breaks the protocol, e.g. sends
/// something else than `exit` after `shutdown`).
pub fn serve(connection: &Connection) -> Result<bool, ServeError> {
    let (id, params) = connection.initialize_start()?;
    let mut server = Server::default();
    server.completion.snippets = params
        .pointer("/capabilities/textDocument/completion/completionItem/snippetSupport")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "runbook".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
    };
    let result = serde_json::to_value(result).unwrap_or(Value::Null);
    connection.initialize_finish(id, result)?;
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    return Ok(true);
                }
                let response = server.request(request);
                send(connection, Message::Response(response))?;
            }
            Message::Notification(notification) => {
                if notification.method == "exit" {
                    return Ok(false);
                }
                for out in server.notification(notification) {
                    send(connection, Message::Notification(out))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(false)
}

fn send(connection: &Connection, message: Message) -> Result<(), ServeError> {
    connection
        .sender
        .send(message)
        .map_err(|_| ServeError::Disconnected)
}

impl Server {
    /// Answers one request; a panic in a handler becomes an error response.
    pub fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let method = request.method.clone();
        match catch_unwind(AssertUnwindSafe(|| self.dispatch(request))) {
            Ok(Ok(result)) => Response::new_ok(id, result),
            Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
            Err(_) => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                format!("internal error while answering `{method}`"),
            ),
        }
    }

    fn dispatch(&mut self, request: Request) -> Result<Value, (ErrorCode, String)> {
        let Request { method, params, .. } = request;
        let result = match method.as_str() {
            "textDocument/hover" => {
                let params: HoverParams = parse(params)?;
                let position = params.text_document_position_params;
                self.with_document(&position.text_document.uri, |document, text| {
                    let offset = text.offset(position.position);
                    hover::hover(&document.analysis, text, offset)
                })
                .flatten()
                .map(to_value)
            }
            "textDocument/definition" => {
                let params: GotoDefinitionParams = parse(params)?;
                let position = params.text_document_position_params;
                let uri = position.text_document.uri.clone();
                self.with_document(&uri, |document, text| {
                    let offset = text.offset(position.position);
                    definition::definition(&document.analysis, &uri, text, offset)
                })
                .flatten()
                .map(|location| to_value(GotoDefinitionResponse::Scalar(location)))
            }
            "textDocument/completion" => {
                let params: CompletionParams = parse(params)?;
                let position = params.text_document_position;
                let options = self.completion;
                self.with_document(&position.text_document.uri, |document, text| {
                    let offset = text.offset(position.position);
                    completion::completion(
                        &document.analysis,
                        document.last_good.as_deref(),
                        text.as_str(),
                        offset,
                        options,
                    )
                })
                .map(|items| to_value(CompletionResponse::Array(items)))
            }
            "textDocument/formatting" => {
                let params: DocumentFormattingParams = parse(params)?;
                self.with_document(&params.text_document.uri, |_, text| {
                    formatting::formatting(text)
                })
                .map(to_value)
            }
            "textDocument/documentSymbol" => {
                let params: DocumentSymbolParams = parse(params)?;
                self.with_document(&params.text_document.uri, |document, text| {
                    document
                        .analysis
                        .ast
                        .as_ref()
                        .map(|file| symbols::symbols(file, text))
                })
                .flatten()
                .map(|symbols| to_value(DocumentSymbolResponse::Nested(symbols)))
            }
            _ => {
                return Err((
                    ErrorCode::MethodNotFound,
                    format!("`{method}` is not supported"),
                ))
            }
        };
        Ok(result.unwrap_or(Value::Null))
    }

    fn with_document<T>(
        &self,
        uri: &Url,
        answer: impl FnOnce(&Document, &Text<'_>) -> T,
    ) -> Option<T> {
        let document = self.documents.get(uri)?;
        let text = Text::new(&document.text);
        Some(answer(document, &text))
    }

    /// Handles one notification; returns the notifications to send back
    /// (diagnostics).
    pub fn notification(&mut self, notification: Notification) -> Vec<Notification> {
        let method = notification.method.clone();
        let handled = catch_unwind(AssertUnwindSafe(|| self.notify(notification)));
        match handled {
            Ok(out) => out,
            Err(_) => vec![Notification::new(
                "window/logMessage".to_owned(),
                serde_json::json!({
                    "type": 1,
                    "message": format!("runbook lsp: internal error while handling `{method}`"),
                }),
            )],
        }
    }

    fn notify(&mut self, notification: Notification) -> Vec<Notification> {
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(params) = parse::<DidOpenTextDocumentParams>(notification.params) else {
                    return Vec::new();
                };
                let document = params.text_document;
                self.documents.insert(
                    document.uri.clone(),
                    Document {
                        text: document.text,
                        version: document.version,
                        analysis: Analysis::default(),
                        last_good: None,
                    },
                );
                self.analyse(&document.uri).into_iter().collect()
            }
            "textDocument/didChange" => {
                let Ok(params) = parse::<DidChangeTextDocumentParams>(notification.params) else {
                    return Vec::new();
                };
                let uri = params.text_document.uri;
                let Some(document) = self.documents.get_mut(&uri) else {
                    return Vec::new();
                };
                for change in params.content_changes {
                    match change.range {
                        None => document.text = change.text,
                        Some(range) => {
                            let text = Text::new(&document.text);
                            let start = text.offset(range.start);
                            let end = text.offset(range.end).max(start);
                            document.text.replace_range(start..end, &change.text);
                        }
                    }
                }
                document.version = params.text_document.version;
                self.analyse(&uri).into_iter().collect()
            }
            "textDocument/didSave" | "workspace/didChangeWatchedFiles" => {
                // Another open document may import this one, or an imported
                // file or a `runbook.toml` may have changed on disk: analyse
                // them all again.
                let uris: Vec<Url> = self.documents.keys().cloned().collect();
                uris.iter().filter_map(|uri| self.analyse(uri)).collect()
            }
            "textDocument/didClose" => {
                let Ok(params) = parse::<DidCloseTextDocumentParams>(notification.params) else {
                    return Vec::new();
                };
                let uri = params.text_document.uri;
                self.documents.remove(&uri);
                vec![publish(uri, Vec::new(), None)]
            }
            _ => Vec::new(),
        }
    }

    /// Analyses the open document `uri` again; its diagnostics.
    fn analyse(&mut self, uri: &Url) -> Option<Notification> {
        let open: Overlay = Arc::new(
            self.documents
                .iter()
                .filter_map(|(uri, document)| {
                    Some((file_path(uri)?, Arc::from(document.text.as_str())))
                })
                .collect(),
        );
        let document = self.documents.get_mut(uri)?;
        let path = file_path(uri);
        document.analysis = analyse(path.as_deref(), &document.text, &open);
        if let Some(ast) = &document.analysis.ast {
            document.last_good = Some(Arc::clone(ast));
        }
        let text = Text::new(&document.text);
        let found = diagnostics::diagnostics(&document.analysis.findings, uri, &text);
        Some(publish(uri.clone(), found, Some(document.version)))
    }
}

fn publish(
    uri: Url,
    diagnostics: Vec<lsp_types::Diagnostic>,
    version: Option<i32>,
) -> Notification {
    Notification::new(
        "textDocument/publishDiagnostics".to_owned(),
        PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        },
    )
}

/// The path of a `file:` URI.
fn file_path(uri: &Url) -> Option<PathBuf> {
    (uri.scheme() == "file")
        .then(|| uri.to_file_path().ok())
        .flatten()
}

fn parse<T: DeserializeOwned>(params: Value) -> Result<T, (ErrorCode, String)> {
    serde_json::from_value(params).map_err(|error| {
        (
            ErrorCode::InvalidParams,
            format!("invalid parameters: {error}"),
        )
    })
}

fn to_value<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_server::RequestId;
    use serde_json::json;

    /// Every request at every position of `text` (and past its end) is
    /// answered without an error: no handler panics (the safety net would
    /// turn a panic into an internal error).
    fn answers_everywhere(text: &str) {
        let mut server = Server::default();
        let uri = "file:///nowhere/probe.runbook";
        server.notification(Notification::new(
            "textDocument/didOpen".to_owned(),
            json!({"textDocument": {"uri": uri, "languageId": "runbook", "version": 1, "text": text}}),
        ));
        let lines = text.split('\n').count() as u32 + 1;
        for line in 0..lines {
            let width = text
                .split('\n')
                .nth(line as usize)
                .map(|line| line.encode_utf16().count() as u32)
                .unwrap_or(0);
            for character in 0..=width + 1 {
                for method in [
                    "textDocument/hover",
                    "textDocument/definition",
                    "textDocument/completion",
                ] {
                    let response = server.request(Request::new(
                        RequestId::from(1),
                        method.to_owned(),
                        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
                    ));
                    assert!(
                        response.error.is_none(),
                        "{method} at {line}:{character} of {text:?}: {response:?}"
                    );
                }
            }
        }
        for method in ["textDocument/documentSymbol", "textDocument/formatting"] {
            let response = server.request(Request::new(
                RequestId::from(2),
                method.to_owned(),
                json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
            ));
            assert!(
                response.error.is_none(),
                "{method} of {text:?}: {response:?}"
            );
        }
    }

    #[test]
    fn no_position_of_odd_text_fails() {
        for text in [
            "",
            "\n\n",
            "runbook {{{{ ((( \"unterminated 🚀",
            "\u{0}\u{feff}step step step é𝄞",
            "runbook x {\r\n    title \"t\"\r\n    step a \"A\" within after {\r\n",
            "runbook x { what-if w \"W\" when failed( during , { retry } }",
            "runbook x {\n    title \"é\"\n    step a \"𝄞\" { note \"{a.b.c} {{ }} {\" } \n}\n",
        ] {
            answers_everywhere(text);
        }
    }

    #[test]
    fn no_position_of_a_shipped_runbook_fails() {
        let text = crate::syntax::embedded::file("lib/exclude-server.runbook").unwrap_or("");
        assert!(!text.is_empty());
        answers_everywhere(text);
        // Cut anywhere, as while typing.
        let cuts: Vec<usize> = (0..text.len())
            .step_by(37)
            .filter(|at| text.is_char_boundary(*at))
            .collect();
        for at in cuts {
            answers_everywhere(&text[..at]);
        }
    }
}
