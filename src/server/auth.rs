//! `dsx serve --require-auth TOKEN`: a test aid, off by default. Every
//! request (but CORS preflights and `/health`) must carry
//! `Authorization: Bearer TOKEN`, or exactly `TOKEN`; anything else gets 401.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

/// `app`, refusing requests without the token.
pub fn require(app: Router, token: &str) -> Router {
    let token: Arc<str> = Arc::from(token);
    app.layer(middleware::from_fn_with_state(token, check))
}

async fn check(
    State(token): State<Arc<str>>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::OPTIONS || req.uri().path() == "/health" {
        return next.run(req).await;
    }
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let ok = given.is_some_and(|v| {
        v == &*token || v.strip_prefix("Bearer ") == Some(&*token)
    });
    if ok {
        return next.run(req).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "missing or wrong Authorization (dsx serve --require-auth)\n",
    )
        .into_response()
}
