//! The API key never appears in `Debug`, `Display`, errors or logs.

mod common;

use common::*;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn the_key_appears_in_no_debug_display_error_or_log() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let builder = deck::Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/v2", server.uri()));
    let builder_debug = format!("{builder:?}");
    let client = builder
        .retry(deck::RetryPolicy::default().max_attempts(2))
        .build()
        .unwrap();

    let mut rendered = vec![
        builder_debug,
        format!("{client:?}"),
        format!("{:?}", client.retry_policy()),
    ];
    let failures = [
        client.get_task().task_id("t").send().await.unwrap_err(),
        client.run_task().task_id("t").send().await.unwrap_err(),
        client.test_api_key().send().await.unwrap_err(),
        client
            .cancel_task_run()
            .run_id("r")
            .send()
            .await
            .unwrap_err(),
        common::client("http://127.0.0.1:9")
            .test_api_key()
            .send()
            .await
            .unwrap_err(),
        deck::Client::builder()
            .api_key(KEY)
            .base_url("ftp://x")
            .build()
            .unwrap_err(),
        deck::Client::builder()
            .api_key(KEY)
            .base_url("http://example.com")
            .build()
            .unwrap_err(),
    ];
    for e in &failures {
        rendered.push(format!("{e}"));
        rendered.push(format!("{e:?}"));
        rendered.push(format!("{e:#}"));
    }
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("deck.request"), "spans were captured: {log}");
    rendered.push(log);
    for text in &rendered {
        assert!(!text.contains(KEY), "key leaked in: {text}");
        assert!(!text.contains("TEST_SECRET"), "key leaked in: {text}");
    }
    assert!(
        rendered[1].contains("redacted") || !rendered[1].contains("Bearer"),
        "{}",
        rendered[1]
    );
}

/// Credential passwords, interaction answers, session tokens and webhook signing secrets: created
/// at TRACE level against MockDeck, the marker values appear in no log line, no `Debug` and no
/// error.
#[tokio::test]
async fn request_and_response_secrets_appear_in_no_log_debug_or_error() {
    use deck::types::{
        AuthMethod, CreateCredentialRequest, CreateEventDestinationRequest, EventDestinationType,
        EventType, UpdateCredentialRequest, WebhookConfig,
    };
    use serde_json::json;
    const PASSWORD: &str = "MARKER_PASSWORD_7f3a";
    const SIGNING: &str = "whsec_MARKERSIGNINGSECRET0000000000";

    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mock = deck::mock::MockDeck::start().await;
    let client = mock.client();
    let source_id = client.list_sources().limit(1).send().await.unwrap().data[0]
        .id
        .clone();
    let secrets = json!({"username": "ada", "password": PASSWORD});

    let body = CreateCredentialRequest::builder()
        .source_id(source_id.clone())
        .auth_method(AuthMethod::UsernamePassword)
        .auth_credentials(secrets.clone());
    let request = client.create_credential().body(body.clone());
    let mut rendered = vec![format!("{body:?}"), format!("{request:?}")];
    let typed: CreateCredentialRequest = body.try_into().unwrap();
    rendered.push(format!("{typed:?}"));
    let credential = request.send().await.unwrap();
    rendered.push(format!("{credential:?}"));

    let update = UpdateCredentialRequest::builder().auth_credentials(secrets.clone());
    rendered.push(format!("{update:?}"));
    client
        .update_credential()
        .credential_id(&credential.id)
        .body(update)
        .send()
        .await
        .unwrap();

    // Refused calls carrying the same secrets: the errors must not echo them.
    let errors = [
        client
            .create_credential()
            .body(
                CreateCredentialRequest::builder()
                    .source_id("src_missing")
                    .auth_credentials(secrets.clone()),
            )
            .send()
            .await
            .unwrap_err(),
        client
            .update_credential()
            .credential_id("cred_missing")
            .body(UpdateCredentialRequest::builder().auth_credentials(secrets.clone()))
            .send()
            .await
            .unwrap_err(),
        client
            .submit_task_run_interaction()
            .run_id("trun_missing")
            .body(deck::types::SubmitInteractionRequest::builder().input(json!({"code": PASSWORD})))
            .send()
            .await
            .unwrap_err(),
    ];
    for e in &errors {
        rendered.push(format!("{e}"));
        rendered.push(format!("{e:?}"));
    }

    let token = client.create_session_token().send().await.unwrap();
    assert!(!token.token.is_empty());
    rendered.push(format!("{token:?}"));
    rendered.push(format!("{:?}", token.as_ref()));

    let destination = CreateEventDestinationRequest::builder()
        .name("hooks")
        .type_(EventDestinationType::Webhook)
        .events(vec![EventType::All])
        .webhook(Some(
            WebhookConfig::builder()
                .url("https://example.invalid/hooks")
                .secret(Some(SIGNING.to_string()))
                .try_into()
                .unwrap(),
        ));
    rendered.push(format!("{destination:?}"));
    let created = client
        .create_event_destination()
        .body(destination)
        .send()
        .await
        .unwrap();
    rendered.push(format!("{created:?}"));

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("request body"),
        "bodies are logged at TRACE: {log}"
    );
    assert!(log.contains("** redacted **"), "and redacted: {log}");
    rendered.push(log);
    for text in &rendered {
        for secret in [PASSWORD, SIGNING, token.token.as_str()] {
            assert!(!text.contains(secret), "{secret} leaked in: {text}");
        }
    }
}

/// An AMQP URL carries `user:password@`: `server_url` is secret in the request, in the
/// destination Deck answers (`RabbitMqSettings`, its `Debug` included) and in TRACE bodies. The
/// redaction list comes from the overlay's `x-deck-secret` markers, so the answered type is
/// covered by the same marker as the request.
#[tokio::test]
async fn an_amqp_url_appears_in_no_log_or_debug() {
    use deck::types::{CreateEventDestinationRequest, EventDestinationType, EventType};
    const MARKER: &str = "MARKER_AMQP_PASSWORD_41c2";
    let url = format!("amqps://deck:{MARKER}@mq.example.invalid/vhost");

    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mock = deck::mock::MockDeck::start().await;
    let client = mock.client();
    let config: deck::types::RabbitMqConfig = deck::types::RabbitMqConfig::builder()
        .server_url(Some(url.clone()))
        .exchange(Some("runs".to_string()))
        .try_into()
        .unwrap();
    let body = CreateEventDestinationRequest::builder()
        .name("mq")
        .type_(EventDestinationType::RabbitMq)
        .events(vec![EventType::All])
        .rabbitmq(Some(config));
    let mut rendered = vec![format!("{body:?}")];
    let created = client
        .create_event_destination()
        .body(body)
        .send()
        .await
        .unwrap()
        .into_inner();
    let settings = created
        .rabbitmq
        .clone()
        .expect("the rabbitmq settings answered");
    assert_eq!(settings.server_url.as_deref(), Some(url.as_str()));
    rendered.push(format!("{settings:?}"));
    rendered.push(format!("{created:?}"));
    let log = capture.text();
    assert!(log.contains("request body"), "{log}");
    rendered.push(log);
    for text in &rendered {
        assert!(
            !text.contains(MARKER),
            "the AMQP password leaked in: {text}"
        );
    }
}
