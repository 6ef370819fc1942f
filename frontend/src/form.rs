//! The admin forms' shared pieces: where an API error shows (next to the
//! field the server named in `extensions.field`, or the one its code is
//! always about, else above the form) and in what words, labelled fields
//! with their messages, and an upload's progress bar.

use leptos::prelude::*;

use crate::api::ApiError;

/// A form's error messages: some next to fields, at most one for the form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors {
    fields: Vec<(&'static str, String)>,
    /// The message for the whole form, when no field of it is at fault.
    pub form: Option<String>,
}

impl FormErrors {
    /// An error the page found itself, before asking the server.
    pub fn field(name: &'static str, message: impl Into<String>) -> Self {
        Self {
            fields: vec![(name, message.into())],
            form: None,
        }
    }

    /// Places an API error next to the one of `fields` it is about, or
    /// above the form when it is about none of them.
    pub fn from_api(error: &ApiError, fields: &[&'static str]) -> Self {
        let named = error
            .field
            .as_deref()
            .or_else(|| implied_field(&error.code));
        let field = named.and_then(|name| fields.iter().find(|f| **f == name));
        match field {
            Some(field) => Self::field(field, message(error)),
            None => Self {
                fields: Vec::new(),
                form: Some(message(error)),
            },
        }
    }

    /// Like `from_api`, but an error about none of `fields` shows next to
    /// `fallback`: an upload's problems belong next to its file.
    pub fn from_api_near(
        error: &ApiError,
        fields: &[&'static str],
        fallback: &'static str,
    ) -> Self {
        let placed = Self::from_api(error, fields);
        match placed.form {
            Some(message) => Self::field(fallback, message),
            None => placed,
        }
    }

    /// Returns the message next to `name`, if any.
    pub fn get(&self, name: &str) -> Option<String> {
        let found = self.fields.iter().find(|(field, _)| *field == name);
        found.map(|(_, message)| message.clone())
    }
}

/// The field an error is about when the server names none: these codes are
/// only ever about one thing.
fn implied_field(code: &str) -> Option<&'static str> {
    match code {
        "dataset_exists" => Some("name"),
        "invalid_token" | "token_revoked" => Some("token"),
        _ => None,
    }
}

/// Words an error for a person filling in a form: a fixed sentence for the
/// codes that need a hint, else the server's message (with the file's line
/// when it names one), and the code when the page does not know it.
pub fn message(error: &ApiError) -> String {
    let fixed = match error.code.as_str() {
        "invalid_token" => "No access token matches this one; check that it was copied whole.",
        "token_revoked" => "This token has been revoked; ask an admin for a new one.",
        "forbidden" => "Only admins may do this.",
        "unauthenticated" => "You are not signed in, or your session has ended: sign in again.",
        "csrf_failed" => "The session check failed: reload the page and try again.",
        "dataset_exists" => "A dataset with this name exists already.",
        "dataset_not_found" => "This dataset does not exist (any more).",
        _ => "",
    };
    if !fixed.is_empty() {
        return fixed.to_string();
    }
    let text = match error.line {
        Some(line) => format!("Line {line}: {}", error.message),
        None => error.message.clone(),
    };
    match error.code.as_str() {
        "invalid_argument" | "invalid_state" => text,
        code => format!("{text} (code: {code})"),
    }
}

/// Words a refused sign-in: a reader's token is refused as `forbidden`,
/// which needs saying differently than for a refused write.
pub fn sign_in_errors(error: &ApiError) -> FormErrors {
    if error.code == "forbidden" {
        let text = "This is a reader token; only admin tokens can sign in.";
        return FormErrors::field("token", text);
    }
    FormErrors::from_api(error, &["token"])
}

/// Words an upload's progress: the share sent, then the wait while the
/// server reads the whole file.
pub fn progress_label(share: f64) -> String {
    if share >= 1.0 {
        return "Sent; the server is checking the file…".into();
    }
    format!("Sending the file… {:.0} %", share * 100.0)
}

/// The message next to one field; empty (and hidden) when there is none.
#[component]
pub fn FieldError(id: String, field: &'static str, errors: RwSignal<FormErrors>) -> impl IntoView {
    let message = move || errors.with(|e| e.get(field));
    view! { <p class="field-error" id=id role="alert">{message}</p> }
}

/// The message about the whole form, above its buttons.
#[component]
pub fn FormAlert(errors: RwSignal<FormErrors>) -> impl IntoView {
    let message = move || errors.with(|e| e.form.clone());
    view! { <p class="form-error" role="alert">{message}</p> }
}

/// A labelled text field (a text area when `multiline`) with its message.
#[component]
pub fn TextField(
    #[prop(into)] id: String,
    label: &'static str,
    field: &'static str,
    value: RwSignal<String>,
    errors: RwSignal<FormErrors>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] wide: bool,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let invalid = move || errors.with(|e| e.get(field).map(|_| "true"));
    let update = move |ev: leptos::ev::Event| value.set(event_target_value(&ev));
    let input = if multiline {
        view! {
            <textarea id=id.clone() rows="3" prop:value=move || value.get() on:input=update
                aria-invalid=invalid aria-describedby=error_id.clone()></textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() type="text" prop:value=move || value.get() on:input=update
                aria-invalid=invalid aria-describedby=error_id.clone() />
        }
        .into_any()
    };
    view! {
        <div class="field" class:wide=wide>
            <label for=id>{label}</label>
            {input}
            {hint.map(|hint| view! { <span class="field-hint">{hint}</span> })}
            <FieldError id=error_id field errors />
        </div>
    }
}

/// An upload's progress bar, shown while `progress` holds the share sent.
#[component]
pub fn UploadProgress(progress: RwSignal<Option<f64>>) -> impl IntoView {
    move || {
        progress.get().map(|share| {
            view! {
                <div class="progress" role="status">
                    <progress max="1" value=share></progress>
                    <span>{progress_label(share)}</span>
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: &str, field: Option<&str>, line: Option<i64>) -> ApiError {
        ApiError {
            message: "`x y` is not a valid name".into(),
            code: code.into(),
            field: field.map(str::to_string),
            line,
        }
    }

    #[test]
    fn a_named_field_of_the_form_gets_the_message() {
        let errors = FormErrors::from_api(
            &error("invalid_argument", Some("name"), None),
            &["name", "tags"],
        );
        assert_eq!(
            errors.get("name").as_deref(),
            Some("`x y` is not a valid name")
        );
        assert_eq!(errors.get("tags"), None);
        assert_eq!(errors.form, None);
    }

    #[test]
    fn a_field_the_form_lacks_goes_above_the_form_with_its_code() {
        let errors = FormErrors::from_api(&error("internal", Some("keyField"), None), &["name"]);
        assert_eq!(errors.get("keyField"), None);
        assert_eq!(
            errors.form.as_deref(),
            Some("`x y` is not a valid name (code: internal)")
        );
    }

    #[test]
    fn some_codes_imply_their_field() {
        let exists = FormErrors::from_api(&error("dataset_exists", None, None), &["name"]);
        assert_eq!(
            exists.get("name").as_deref(),
            Some("A dataset with this name exists already.")
        );
        let revoked = FormErrors::from_api(&error("token_revoked", None, None), &["token"]);
        assert!(revoked.get("token").is_some_and(|m| m.contains("revoked")));
    }

    #[test]
    fn file_errors_name_their_line() {
        let errors = FormErrors::from_api(
            &error("invalid_argument", Some("file"), Some(3)),
            &["file", "note"],
        );
        assert_eq!(
            errors.get("file").as_deref(),
            Some("Line 3: `x y` is not a valid name")
        );
    }

    #[test]
    fn an_upload_error_about_no_field_shows_next_to_the_file() {
        let errors = FormErrors::from_api_near(
            &error("invalid_argument", None, Some(7)),
            &["file", "note"],
            "file",
        );
        assert_eq!(
            errors.get("file").as_deref(),
            Some("Line 7: `x y` is not a valid name")
        );
        assert_eq!(errors.form, None);
        let note = FormErrors::from_api_near(
            &error("invalid_argument", Some("note"), None),
            &["file", "note"],
            "file",
        );
        assert!(note.get("note").is_some() && note.get("file").is_none());
    }

    #[test]
    fn session_problems_are_worded_for_people() {
        let errors = FormErrors::from_api(&error("csrf_failed", None, None), &["name"]);
        assert_eq!(
            errors.form.as_deref(),
            Some("The session check failed: reload the page and try again.")
        );
    }

    #[test]
    fn progress_reads_as_a_percentage_then_a_wait() {
        assert_eq!(progress_label(0.456), "Sending the file… 46 %");
        assert_eq!(
            progress_label(1.0),
            "Sent; the server is checking the file…"
        );
    }

    #[test]
    fn a_reader_token_is_refused_next_to_the_token_field() {
        let errors = sign_in_errors(&error("forbidden", None, None));
        assert_eq!(
            errors.get("token").as_deref(),
            Some("This is a reader token; only admin tokens can sign in.")
        );
        let unknown = sign_in_errors(&error("invalid_token", None, None));
        assert!(unknown.get("token").is_some());
    }
}
