//! Operations that carry a file, sent as a GraphQL multipart request
//! (fields `operations`, `map` and `0`) over `XMLHttpRequest`, the one
//! browser API that reports how much of a request body has gone out.

use graphql_client::GraphQLQuery;
use serde::de::DeserializeOwned;
use wasm_bindgen_futures::JsFuture;
use web_sys::js_sys::{Function, Promise};
use web_sys::wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{File, FormData, ProgressEvent, XmlHttpRequest};

use super::{ApiError, CSRF_HEADER, ENDPOINT, body, parse};

/// The multipart field that holds the file; `map` points the variable at it.
const FILE_PART: &str = "0";

/// Returns the `map` field, which tells the server which variable the file
/// part fills.
fn file_map(variable: &str) -> String {
    serde_json::json!({ FILE_PART: [format!("variables.{variable}")] }).to_string()
}

/// Returns the share of a body sent, or `None` when the browser cannot say.
fn fraction(loaded: f64, total: f64, computable: bool) -> Option<f64> {
    (computable && total > 0.0).then(|| (loaded / total).clamp(0.0, 1.0))
}

fn browser_error(error: JsValue) -> ApiError {
    let detail = error.as_string().unwrap_or_else(|| format!("{error:?}"));
    ApiError::new(
        format!("the browser could not send the file: {detail}"),
        "network",
    )
}

/// Sends one mutation whose `variable` is `file`, with the session's CSRF
/// token, and reads its answer as `R` (its typed data, or plain JSON);
/// `on_progress` hears the share of the file sent so far.
pub async fn send<Q: GraphQLQuery, R: DeserializeOwned>(
    csrf: &str,
    variables: Q::Variables,
    variable: &str,
    file: &File,
    on_progress: impl Fn(f64) + 'static,
) -> Result<R, ApiError> {
    // The `operations` field is the usual request body: the `Upload` scalar
    // is `()`, written `null`, which the server replaces with the file.
    let fields = (body::<Q>(variables)?, file_map(variable));
    let (status, text) = exchange(csrf, fields, file, Box::new(on_progress)).await?;
    parse(status, &text)
}

/// Posts the multipart form and returns the status and text of the answer;
/// not generic, so its code exists once.
async fn exchange(
    csrf: &str,
    (operations, map): (String, String),
    file: &File,
    on_progress: Box<dyn Fn(f64)>,
) -> Result<(u16, String), ApiError> {
    let form = FormData::new().map_err(browser_error)?;
    form.append_with_str("operations", &operations)
        .map_err(browser_error)?;
    form.append_with_str("map", &map).map_err(browser_error)?;
    form.append_with_blob_and_filename(FILE_PART, file, &file.name())
        .map_err(browser_error)?;

    let request = XmlHttpRequest::new().map_err(browser_error)?;
    request.open("POST", ENDPOINT).map_err(browser_error)?;
    request
        .set_request_header(CSRF_HEADER, csrf)
        .map_err(browser_error)?;
    let upload = request.upload().map_err(browser_error)?;
    let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
        let share = fraction(event.loaded(), event.total(), event.length_computable());
        if let Some(share) = share {
            on_progress(share);
        }
    });
    upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    let finished = Promise::new(&mut |resolve: Function, reject: Function| {
        request.set_onload(Some(&resolve));
        request.set_onerror(Some(&reject));
        request.set_onabort(Some(&reject));
    });
    request
        .send_with_opt_form_data(Some(&form))
        .map_err(browser_error)?;
    let outcome = JsFuture::from(finished).await;
    // The closure must outlive every progress event, and no longer.
    upload.set_onprogress(None);
    drop(progress);
    outcome.map_err(|_| ApiError::unreachable("the connection failed during the upload"))?;

    let status = request.status().map_err(browser_error)?;
    let text = request.response_text().map_err(browser_error)?;
    Ok((status, text.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::api::dataset::{PreviewDatasetVersion, preview_dataset_version::Variables};

    #[test]
    fn the_file_variable_is_null_in_operations_and_named_in_the_map() {
        let variables = Variables {
            dataset: "arc".into(),
            file: (),
        };
        let operations = body::<PreviewDatasetVersion>(variables).map_err(|e| e.message);
        let operations: Value =
            serde_json::from_str(&operations.unwrap_or_default()).unwrap_or_default();
        assert_eq!(
            operations["variables"],
            json!({"dataset": "arc", "file": null})
        );
        assert_eq!(operations["operationName"], "PreviewDatasetVersion");
        assert_eq!(file_map("file"), r#"{"0":["variables.file"]}"#);
    }

    #[test]
    fn progress_is_a_share_between_zero_and_one_when_known() {
        assert_eq!(fraction(50.0, 200.0, true), Some(0.25));
        assert_eq!(fraction(300.0, 200.0, true), Some(1.0));
        assert_eq!(fraction(50.0, 0.0, true), None);
        assert_eq!(fraction(50.0, 200.0, false), None);
    }
}
