//! Bearer tokens over HTTP: HS256 with the shared secret, RS256 with the
//! identity provider's JWKS, the tokens refused, and the server's limits and
//! health checks.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use learnmap::auth::{Keys, Secret, Signer, Verifier};
use learnmap::server::{self, ServerArgs};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::db_test;
use crate::helpers::TestApp;
use crate::personnel_import::load_examples;

const SECRET: &str = "the learnmap test secret, 32 bytes or more";

/// A 2048-bit RSA key made for these tests only (it signs nothing else): the
/// identity provider's, published in [`JWKS`] under the key id `idp-1`.
pub(crate) const IDP_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC1U2YNsE2aM1Fo
69S5hRnwLhUNoi5BZoWKH0QMRwBfspfD3fxWYlYOl8q4MDQvouBeYWCpJKUYDcIc
/iGJ7/ckJ+TK95BB6G2mSkr3jtu6RLHlBDov2Uzat2SJT63GS453YmFkj1E5Ge1P
+tr8gH6aBiY8s6g0W7n7aoKv2h63qHdFzbufK7MmIPDQ9QKPd4WQjVLFFmHOBrJ5
fbSMHVIPRyTLkJUU74sJBX02x8YYghL1Vmu2rwT/zPSZ69BcOWAA/ovy238lgJkf
HBGoFAZL1rGLSBDlT/WE85nTy4Araw1wbYIKUcRroTzCuQ3iMV+vd/kv41XpcSoJ
EUPk+52xAgMBAAECggEAQ4epWMzBwf19wsUdxvAGrngDGD4/2tSLRFsLlUT2Iy3Y
rrYkTam24h1u/rTZIqqWxB+hB61hnPk2w2Rz6jLICJug7mRPwfQFrio6DEOUmqUN
2bx+zSYxJL2rQCZAEjs+dkDaA8EKX2lEBAbpeqOCQuuqXu4L5WAJ/lP3EvX5fa0q
RLMPD+ug1vupQYbxhnj+NPXXWdVCS0TDDW6+n3unFG5IbhxIFwSYJiUbahqFZTqY
0by/sHwEEnjZU/mNkzj8hgNxP47DzhQDcsiM2IcJgz+menIMSe5/TTt9YkCATJcQ
pc8v0H0JLpCziaQRM/b/mTw5cgRlsKKT7GD6ApPp5wKBgQD7bLxUBp6IVjMorMFv
j2swBLcGjCs7R3klm1VwOigQ5q/Ar+t1cPPSBaGyBncF8jneoiPz08WKCb5L+HDL
kutNxYk3x2U0Q8cwwly15nPQe3r6KL35PHA4e03R4mjYHaNXtLkwsgb0YC9fbM3E
hxvyGNSwMmo9dj0U1WUQDVvOawKBgQC4oBs4H/Ol/oI0A7SsHwgAILN059yV9LrI
vWSiIKtXQdK17jYlpxH7o7HP+CT/WzklxMGbUdDtC6ogtgzF0LWR54zPWlc0ry6D
KwFjTqwWjhBA/nu8gO4zIaXLqJiJJ0zdeyNutgkVjoQ7+HGa3LnF4PuU0e0Uz2Uv
Os5SsaFTUwKBgQC4ayasn3pTWJ8H28e7E8C0pRC2/cOMJL3o5spBmnbfBsatmJwm
NaayS60yDuno86ac9eNXKuO/f6wUv3PE7swn7Jfc0SYbswd9bWNhjVsv9hLbQV0v
XrSVyWPoaqEqvHqej5Iy9LKDN7Yn0YARAmVuK+Z+I0yoLn1ZNbl+j73iZwKBgQCB
mrNA5P0vS8ivJuLP6UC+hjY0HQf2pMPyYzGftntRV73JRR3xtKSlF7adHb8rGyi0
4LhghkC6BvQ43lN9EhREBl4MuYh6TXfDUI863WFku/mhBoRqQb/1WOuAWiwqK9KD
sAuhjlw2K8OcLb3iToyC4nr5b5yUfTq0uv1Xg6aSTQKBgB4nHyHvn7WyPMDYA/IE
wJOUwUSCUsoE/r71mqdjp8u/Q2UQ9yIsMkUSHkX1EXL5B46ZoKeFBrAZgZbUQEOe
NMnOdt0ua2GBGd5cZnRh+KAPBvybHflO4qs+jdpty0AykgAsG4ecO53plrnkbvNk
sZWAD6yxLPjg1mzC4F1lT8Y1
-----END PRIVATE KEY-----\n";

/// Another test-only key, which the JWKS does not hold.
pub(crate) const OTHER_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDP5tEfe/wMNUlq
euzRwP8Wod/rgzZPv3+2kFtDvwbY5amlnC6NcWSfpiQP6tNARyi6QG/WcZe1NBRW
6QdDJJxg6fPjhCC1/3dQE+Qr7Fohwwo2v8Ja5cV3jZ8vJpCyttlMtbPJpA+Wr9J2
jirt0Q4Y1lWg5STG8t3i5lWi6EuXQf3CQnbHBQ/EnGP88HqRqtPLwaCImRtr8A83
x0c4ledIUPCj9UwTtFB6++mh/or+Vu62nqgZ2uyHt2RqqR4uOSbxdgMbphJexfcq
Zc/z0/2axGC2r95KFgwCUc5uq/7NoJrpmSOAMyuupmzgzc0GUBEG1AlOpmPM85n4
uu5Uhr+VAgMBAAECggEAJzXM5J99YK8PHuA6uG+qHJJgmTo4vM8s7tlogQ0u5Srh
dUzQwdfsRqjuvbrH52RUU9ZR0XPAjUoaeO6/siPeQ2/0UclqYvDgx49M1hTgReRT
UZKWfQ6/UKY66sle+nm+X3eYhjPlRcH402fKRGqMelY4NZ1p84S8IO5Yod4mXYsb
Xhfnxc5E5890f+jq8SBxqGNg1SV935JVy+pipctrgIduwgfSET6IJuIcP6duQS0l
d5gE1ypGpOvLx+LeEi2X2uFFWAUlVBn0PSoidej9sSA7udz1dzNWAnLNdf59DZYh
mhQOCdYH7T3eq2cqATMGl+VMIajJgDfQEwMC1bH2oQKBgQDr7uxFDuTpHEnwI54k
s5ZBNTpMdoeeuAV+9CfKek8KCbe3HAXt9K00ye4iKk/GnFJ4B15Xc06htReK9uIO
ygoSzmfJK+f0yeUW4nwPQ9ukTZy/fPFY7UM/bVyWGxN4q+nL564ZldX4ss9LluGv
R1dKhXnwkGBNYOWr++/5CTKPIQKBgQDhlYxo1AyQWNA06MeCSaXvmhXIeBDlfIYp
bRQeL6UxrR3i+7ykneeaVYzHmhIMwyrC8IYj5kJwVnBtFz7h7bSJvi1l0sxnjDm6
D3oK1XWDBw7fR9MCGuB0Pb7UA6vDliU9HbsBl3mYLL1HVzEH11aaYYVCS/VB5pUo
4RWLLfQl9QKBgDhbp1bLuwSwPD0/1NwBhifndhijy7uvS6jK2+JzGwRT0+3KpOP1
qZZNkjPZFZtk5hJD+FY9dhAMuSX52YAc5REe+w3EDjGcNLwlt+rRk9sIqyPWzbQn
YQP6tL4qk5kkv8F0g1MbRrSUyg3NafW7ve9QOROs+UQinFpb4TQE7W3hAoGBANbk
nqgx8HIFmPn+EihkPkW8tCmPbxEeCbQm6/ZBjw1+i6zyAGeU4M9d1clDVRSBSxf/
Btnl/L6FKX5SmZ2h0s0wtJB+OigeJdO/8JOnetVCAQHkqvcjYVR6iXHwuUyNmJXa
342JndTAMeNnBRciJKbWZZqdP1ry7H7PxLUcJquNAoGBANIz5Xq1kfE+LmbpvXk/
bdoDQxGYc0J8WU6s2nYYrR24Fx8i9uYUvZJlwKaZ1CuhpqUP2vgmy53JhHfNODjU
xnnBtB16l+W69XLM5IubU78+b23IKf7FV3S3gUNwKRSPF5cDRzwv30RlLP8rTQ+m
k0B91JUNb4vJSjph9g9MlhSU
-----END PRIVATE KEY-----\n";

/// The public half of [`IDP_KEY`], as the identity provider publishes it.
pub(crate) const IDP_N: &str = "tVNmDbBNmjNRaOvUuYUZ8C4VDaIuQWaFih9EDEcAX7KXw938VmJWDpfKuDA0L6LgXmFgqSSlGA3CHP4hie_3JCfkyveQQehtpkpK947bukSx5QQ6L9lM2rdkiU-txkuOd2JhZI9RORntT_ra_IB-mgYmPLOoNFu5-2qCr9oet6h3Rc27nyuzJiDw0PUCj3eFkI1SxRZhzgayeX20jB1SD0cky5CVFO-LCQV9NsfGGIIS9VZrtq8E_8z0mevQXDlgAP6L8tt_JYCZHxwRqBQGS9axi0gQ5U_1hPOZ08uAK2sNcG2CClHEa6E8wrkN4jFfr3f5L-NV6XEqCRFD5PudsQ";
/// The public half of [`OTHER_KEY`].
pub(crate) const OTHER_N: &str = "z-bRH3v8DDVJanrs0cD_FqHf64M2T79_tpBbQ78G2OWppZwujXFkn6YkD-rTQEcoukBv1nGXtTQUVukHQyScYOnz44Qgtf93UBPkK-xaIcMKNr_CWuXFd42fLyaQsrbZTLWzyaQPlq_Sdo4q7dEOGNZVoOUkxvLd4uZVouhLl0H9wkJ2xwUPxJxj_PB6karTy8GgiJkba_APN8dHOJXnSFDwo_VME7RQevvpof6K_lbutp6oGdrsh7dkaqkeLjkm8XYDG6YSXsX3KmXP89P9msRgtq_eShYMAlHObqv-zaCa6ZkjgDMrrqZs4M3NBlARBtQJTqZjzPOZ-LruVIa_lQ";

pub(crate) fn jwks(n: &str) -> String {
    json!({ "keys": [{ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "idp-1", "n": n, "e": "AQAB" }] }).to_string()
}

fn verifier() -> Verifier {
    Verifier::new("learnmap", "learnmap")
        .with_secret(&Secret::new(SECRET))
        .expect("secret")
        .with_keys(Keys::parse(&jwks(IDP_N)).expect("jwks"))
}

fn routes(app: &TestApp) -> Router {
    server::app(app.schema.clone(), app.db.clone(), verifier(), ServerArgs::default())
}

fn signer() -> Signer {
    Signer::new(&Secret::new(SECRET), "learnmap", "learnmap").expect("signer")
}

fn token(employee_no: &str, admin: bool) -> String {
    signer()
        .token(employee_no, admin, Duration::from_secs(600))
        .expect("token")
}

pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
}

pub(crate) fn claims(sub: &str) -> Value {
    json!({ "sub": sub, "iss": "learnmap", "aud": "learnmap", "iat": now(), "exp": now() + 600 })
}

pub(crate) fn rs256(key_pem: &str, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(String::from);
    let key = EncodingKey::from_rsa_pem(key_pem.as_bytes()).expect("test key");
    jsonwebtoken::encode(&header, claims, &key).expect("signed")
}

pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {}", self.text))
    }

    /// The code of the first GraphQL error.
    pub fn code(&self) -> String {
        self.json()["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

pub(crate) async fn send(routes: Router, request: Request<Body>) -> Answer {
    let response = routes.oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub(crate) fn post(body: Value, authorization: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    request.body(Body::from(body.to_string())).expect("request")
}

async fn query(app: &TestApp, query: &str, authorization: Option<&str>) -> Answer {
    send(routes(app), post(json!({ "query": query }), authorization)).await
}

pub(crate) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

// ---------------------------------------------------------------------------
// HS256

db_test! {
    async fn a_token_signs_its_employee_in(app) {
        load_examples(&app).await;
        let answer = query(&app, "{ me { employeeNo } }", Some(&bearer(&token("E10010", false)))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.json(), json!({ "data": { "me": { "employeeNo": "E10010" } } }));

        // The person's rights, not an admin's.
        let answer = query(&app, r#"{ person(employeeNo: "E10009") { name } }"#, Some(&bearer(&token("E10010", false)))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.code(), "FORBIDDEN");
        let answer = query(&app, r#"{ person(employeeNo: "E10010") { name } }"#, Some(&bearer(&token("E10009", false)))).await;
        assert_eq!(answer.json()["data"]["person"]["name"], json!("楊欣怡"));
    }
}

db_test! {
    async fn a_subject_in_lower_case_or_full_width_is_the_same_employee(app) {
        load_examples(&app).await;
        // E10002 supervises E10005; an identity provider may print either
        // number as an HR system does.
        for (staff, supervisor) in [("e10005", "e10002"), ("Ｅ１０００５", "ｅ10002")] {
            let staff = bearer(&signer().sign(&claims(staff)).expect("token"));
            let own = query(&app, r#"{ compliance(employeeNo: "E10005", year: 2026, asOf: "2026-03-31") { status } }"#, Some(&staff)).await;
            assert!(own.json()["data"]["compliance"]["status"].is_string(), "{}", own.text);
            let me = query(&app, "{ me { employeeNo } }", Some(&staff)).await;
            assert_eq!(me.json(), json!({ "data": { "me": { "employeeNo": "E10005" } } }));

            let supervisor = bearer(&signer().sign(&claims(supervisor)).expect("token"));
            let report = query(&app, r#"{ person(employeeNo: "E10005") { name } }"#, Some(&supervisor)).await;
            assert_eq!(report.json()["data"]["person"]["name"], json!("李佩珊"), "{}", report.text);
        }
    }
}

#[test]
fn a_token_is_signed_only_for_an_employee_number() {
    let refused = signer()
        .token("a b", false, Duration::from_secs(60))
        .expect_err("a space");
    assert_eq!(
        refused.to_string(),
        "--employee: \"a b\" is not an employee number (letters, digits and -, at most 32)"
    );

    let folded = signer()
        .token("ｅ10005", false, Duration::from_secs(60))
        .expect("a number");
    let verified = verifier().verify(&folded).expect("verified");
    assert_eq!(verified, learnmap::graphql::Caller::person("E10005"));
}

db_test! {
    async fn the_admin_role_makes_an_admin(app) {
        load_examples(&app).await;
        let people = "{ people(first: 1) { totalCount } }";
        let answer = query(&app, people, Some(&bearer(&token("E10001", true)))).await;
        assert_eq!(answer.json(), json!({ "data": { "people": { "totalCount": 36 } } }));
        let answer = query(&app, "{ me { employeeNo } }", Some(&bearer(&token("E10001", true)))).await;
        assert_eq!(answer.json(), json!({ "data": { "me": { "employeeNo": "E10001" } } }));

        let answer = query(&app, people, Some(&bearer(&token("E10001", false)))).await;
        assert_eq!(answer.code(), "FORBIDDEN");
        let answer = query(&app, people, None).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.code(), "UNAUTHENTICATED");

        let create = r#"mutation { setRequirements(year: 2031, note: "t", requirements: [{ facet: POLICY, hours: 3 }]) { ruleYear } }"#;
        let answer = query(&app, create, Some(&bearer(&token("E10010", false)))).await;
        assert_eq!(answer.code(), "FORBIDDEN");
        let answer = query(&app, create, Some(&bearer(&token("E10001", true)))).await;
        assert!(answer.json().get("errors").is_none(), "{}", answer.text);
    }
}

db_test! {
    async fn without_a_token_only_public_data_is_served(app) {
        load_examples(&app).await;
        let answer = query(&app, "{ facets { code } requirements(year: 2026) { ruleYear } }", None).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(answer.json().get("errors").is_none(), "{}", answer.text);

        let answer = query(&app, r#"{ me { employeeNo } person(employeeNo: "E10010") { name } }"#, None).await;
        assert_eq!(answer.status, StatusCode::OK);
        let errors = answer.json()["errors"].clone();
        assert_eq!(errors.as_array().map(Vec::len), Some(2), "{errors}");
        assert!(errors.as_array().into_iter().flatten().all(|e| e["extensions"]["code"] == json!("UNAUTHENTICATED")));
    }
}

db_test! {
    async fn a_bad_token_is_refused_even_for_the_catalog(app) {
        let other = Signer::new(&Secret::new("another secret, every bit as long as ours"), "learnmap", "learnmap").expect("signer");
        let mut expired = claims("E10010");
        expired["exp"] = json!(now() - 3600);
        let mut not_yet = claims("E10010");
        not_yet["nbf"] = json!(now() + 3600);
        let mut foreign_issuer = claims("E10010");
        foreign_issuer["iss"] = json!("https://idp.example");
        let mut foreign_audience = claims("E10010");
        foreign_audience["aud"] = json!("another-app");
        let mut no_audience = claims("E10010");
        no_audience.as_object_mut().expect("object").remove("aud");
        let valid = token("E10010", true);
        let tampered = {
            let mut parts: Vec<String> = valid.split('.').map(String::from).collect();
            let claims = json!({ "sub": "E10001", "iss": "learnmap", "aud": "learnmap", "exp": now() + 600, "roles": ["admin"] });
            parts[1] = base64_url(claims.to_string().as_bytes());
            parts.join(".")
        };
        let unsigned = format!("{}.{}.", base64_url(br#"{"alg":"none","typ":"JWT"}"#), base64_url(claims("E1").to_string().as_bytes()));

        let cases = [
            ("expired", bearer(&signer().sign(&expired).expect("token")), "the token has expired"),
            ("not yet valid", bearer(&signer().sign(&not_yet).expect("token")), "the token is invalid"),
            ("foreign issuer", bearer(&signer().sign(&foreign_issuer).expect("token")), "the token is invalid"),
            ("foreign audience", bearer(&signer().sign(&foreign_audience).expect("token")), "the token is invalid"),
            ("no audience", bearer(&signer().sign(&no_audience).expect("token")), "the token is invalid"),
            ("another secret", bearer(&other.token("E10010", true, Duration::from_secs(60)).expect("token")), "the token is invalid"),
            ("tampered", bearer(&tampered), "the token is invalid"),
            ("unsigned", bearer(&unsigned), "the token is invalid"),
            ("garbage", bearer("not.a.token"), "the token is invalid"),
            ("basic", "Basic dXNlcjpwYXNz".to_string(), "the token is invalid"),
            ("empty bearer", "Bearer ".to_string(), "the token is invalid"),
        ];
        for (name, authorization, message) in cases {
            let answer = query(&app, "{ facets { code } }", Some(&authorization)).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{name}: {}", answer.text);
            assert_eq!(
                answer.json(),
                json!({ "errors": [{ "message": message, "extensions": { "code": "UNAUTHENTICATED" } }] }),
                "{name}"
            );
            assert_eq!(answer.headers[header::WWW_AUTHENTICATE], "Bearer error=\"invalid_token\"", "{name}");
        }
    }
}

/// Base64url without padding, as in a JWT.
fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

db_test! {
    async fn a_get_query_is_authenticated_too(app) {
        load_examples(&app).await;
        let get = |authorization: &str| {
            Request::get("/graphql?query=%7Bme%7BemployeeNo%7D%7D")
                .header(header::AUTHORIZATION, authorization)
                .body(Body::empty())
                .expect("request")
        };
        let answer = send(routes(&app), get(&bearer(&token("E10010", false)))).await;
        assert_eq!(answer.json(), json!({ "data": { "me": { "employeeNo": "E10010" } } }));
        let answer = send(routes(&app), get("Bearer nope")).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
}

// ---------------------------------------------------------------------------
// RS256 with the identity provider's JWKS

db_test! {
    async fn identity_provider_tokens_verify_with_its_jwks(app) {
        load_examples(&app).await;
        let me = "{ me { employeeNo } }";
        let answer = query(&app, me, Some(&bearer(&rs256(IDP_KEY, Some("idp-1"), &claims("E10010"))))).await;
        assert_eq!(answer.json(), json!({ "data": { "me": { "employeeNo": "E10010" } } }));

        // With one key in the set, a token may leave out its key id.
        let answer = query(&app, me, Some(&bearer(&rs256(IDP_KEY, None, &claims("E10010"))))).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);

        let mut admin = claims("E10001");
        admin["roles"] = json!(["admin"]);
        let answer = query(&app, "{ people(first: 0) { totalCount } }", Some(&bearer(&rs256(IDP_KEY, Some("idp-1"), &admin)))).await;
        assert_eq!(answer.json(), json!({ "data": { "people": { "totalCount": 36 } } }));

        let mut expired = claims("E10010");
        expired["exp"] = json!(now() - 3600);
        let mut foreign = claims("E10010");
        foreign["aud"] = json!("another-app");
        for (name, token) in [
            ("unknown key id", rs256(IDP_KEY, Some("idp-2"), &claims("E10010"))),
            ("key not in the set", rs256(OTHER_KEY, Some("idp-1"), &claims("E10010"))),
            ("expired", rs256(IDP_KEY, Some("idp-1"), &expired)),
            ("foreign audience", rs256(IDP_KEY, Some("idp-1"), &foreign)),
        ] {
            let answer = query(&app, "{ facets { code } }", Some(&bearer(&token))).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{name}");
            assert_eq!(answer.code(), "UNAUTHENTICATED", "{name}");
        }
    }
}

db_test! {
    async fn with_only_a_jwks_shared_secret_tokens_are_refused(app) {
        let only_jwks = Verifier::new("learnmap", "learnmap").with_keys(Keys::parse(&jwks(IDP_N)).expect("jwks"));
        let routes = server::app(app.schema.clone(), app.db.clone(), only_jwks, ServerArgs::default());
        let answer = send(routes.clone(), post(json!({ "query": "{ facets { code } }" }), Some(&bearer(&token("E1", true))))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

        // An HS256 token keyed with the provider's public key (the classic
        // algorithm confusion) is refused too.
        let confused = Signer::new(&Secret::new(IDP_N), "learnmap", "learnmap").expect("signer");
        let forged = confused.token("E10001", true, Duration::from_secs(60)).expect("token");
        let answer = send(routes.clone(), post(json!({ "query": "{ facets { code } }" }), Some(&bearer(&forged)))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

        let good = rs256(IDP_KEY, Some("idp-1"), &claims("E10010"));
        let answer = send(routes, post(json!({ "query": "{ facets { code } }" }), Some(&bearer(&good)))).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
}

#[test]
fn a_jwks_file_is_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, jwks(IDP_N)).expect("write");
    let verifier = Verifier::new("learnmap", "learnmap")
        .with_jwks_file(&path)
        .expect("jwks file");
    let caller = verifier.verify(&rs256(IDP_KEY, Some("idp-1"), &claims("E10010")));
    assert_eq!(caller, Ok(learnmap::graphql::Caller::person("E10010")));

    std::fs::write(&path, r#"{ "keys": [] }"#).expect("write");
    assert!(
        Verifier::new("learnmap", "learnmap").with_jwks_file(&path).is_err(),
        "a set without keys"
    );
    std::fs::write(&path, "not json").expect("write");
    assert!(Verifier::new("learnmap", "learnmap").with_jwks_file(&path).is_err());
    assert!(
        Verifier::new("learnmap", "learnmap")
            .with_jwks_file(&dir.path().join("missing"))
            .is_err()
    );
}

// ---------------------------------------------------------------------------
// Limits

db_test! {
    async fn bodies_up_to_16_mib_are_read(app) {
        let padded = |bytes: usize| json!({ "query": "query($pad: String) { facets { code } }", "variables": { "pad": "x".repeat(bytes) } });

        // An import-sized body (3 MiB, above the usual 1 MiB) is fine.
        let answer = send(routes(&app), post(padded(3 * 1024 * 1024), None)).await;
        assert_eq!(answer.status, StatusCode::OK, "{:.200}", answer.text);

        let answer = send(routes(&app), post(padded(16 * 1024 * 1024), None)).await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(answer.code(), "BAD_USER_INPUT");

        // A declared length above the limit is refused before reading.
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, (server::MAX_BODY_BYTES + 1).to_string())
            .body(Body::from("{}"))
            .expect("request");
        let answer = send(routes(&app), request).await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}

db_test! {
    async fn batches_hold_at_most_ten_operations(app) {
        load_examples(&app).await;
        let batch = |n: usize| Value::Array((0..n).map(|_| json!({ "query": "{ me { employeeNo } }" })).collect());

        let answer = send(routes(&app), post(batch(10), Some(&bearer(&token("E10010", false))))).await;
        assert_eq!(answer.status, StatusCode::OK);
        let responses = answer.json();
        assert_eq!(responses.as_array().map(Vec::len), Some(10));
        assert!(responses.as_array().into_iter().flatten().all(|r| r == &json!({ "data": { "me": { "employeeNo": "E10010" } } })));

        let answer = send(routes(&app), post(batch(11), None)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            answer.json(),
            json!({ "errors": [{
                "message": "a batch may hold at most 10 operations; this one holds 11",
                "extensions": { "code": "BAD_USER_INPUT" }
            }] })
        );
    }
}

db_test! {
    async fn unreadable_requests_are_bad_input(app) {
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{ not json"))
            .expect("request");
        let answer = send(routes(&app), request).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.code(), "BAD_USER_INPUT");
    }
}

db_test! {
    async fn introspection_can_be_turned_off(app) {
        let introspect = json!({ "query": "{ __schema { queryType { name } } }" });
        let answer = send(routes(&app), post(introspect.clone(), None)).await;
        assert_eq!(answer.json(), json!({ "data": { "__schema": { "queryType": { "name": "QueryRoot" } } } }));

        let closed = server::app(app.schema.clone(), app.db.clone(), verifier(), ServerArgs { introspection: false, ..ServerArgs::default() });
        // async-graphql answers a disabled introspection with nulls.
        let answer = send(closed.clone(), post(introspect, None)).await;
        assert_eq!(answer.json(), json!({ "data": { "__schema": null } }));
        let answer = send(closed.clone(), post(json!({ "query": r#"{ __type(name: "Person") { fields { name } } }"# }), None)).await;
        assert_eq!(answer.json(), json!({ "data": { "__type": null } }));
        let answer = send(closed, post(json!({ "query": "{ facets { code } }" }), None)).await;
        assert!(answer.json().get("errors").is_none(), "{}", answer.text);
    }
}

// ---------------------------------------------------------------------------
// Health

db_test! {
    async fn health_and_readiness(app) {
        let get = |path: &str| Request::get(path).body(Body::empty()).expect("request");
        let answer = send(routes(&app), get("/healthz")).await;
        assert_eq!((answer.status, answer.text.as_str()), (StatusCode::OK, "ok"));
        let answer = send(routes(&app), get("/readyz")).await;
        assert_eq!(answer.status, StatusCode::OK);

        let routes = routes(&app);
        app.db.close_by_ref().await.expect("close");
        let answer = send(routes.clone(), get("/readyz")).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        let answer = send(routes, get("/healthz")).await;
        assert_eq!(answer.status, StatusCode::OK, "alive, if not ready");
    }
}

// ---------------------------------------------------------------------------
// The unit report download

db_test! {
    async fn only_admins_download_unit_reports(app) {
        load_examples(&app).await;
        let get = |authorization: Option<&str>| {
            let mut request = Request::get("/reports/units/DDB?year=2026&asOf=2026-03-15");
            if let Some(value) = authorization {
                request = request.header(header::AUTHORIZATION, value);
            }
            request.body(Body::empty()).expect("request")
        };
        let answer = send(routes(&app), get(None)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.json()["errors"][0]["extensions"]["code"], json!("UNAUTHENTICATED"));
        let answer = send(routes(&app), get(Some(&bearer(&token("E10001", false))))).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert_eq!(answer.json()["errors"][0]["extensions"]["code"], json!("FORBIDDEN"));
        let answer = send(routes(&app), get(Some("Bearer broken"))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.json()["errors"][0]["extensions"]["code"], json!("UNAUTHENTICATED"));
        assert_eq!(answer.headers[header::WWW_AUTHENTICATE], "Bearer error=\"invalid_token\"");

        let answer = send(routes(&app), get(Some(&bearer(&token("E10001", true))))).await;
        assert_eq!(answer.status, StatusCode::OK, "{:.300}", answer.text);
        assert!(answer.headers[header::CONTENT_TYPE].to_str().is_ok_and(|t| t.starts_with("text/csv")));
        assert!(answer.text.contains("E10010"), "{:.300}", answer.text);
        assert_eq!(
            answer.headers[header::CONTENT_DISPOSITION],
            "attachment; filename=\"learnmap-DDB-2026.csv\"; filename*=UTF-8''learnmap-DDB-2026.csv"
        );

        // ＤＤＢ, percent-encoded: DDB's report, named after DDB.
        let admin = bearer(&token("E10001", true));
        let full_width = Request::get("/reports/units/%EF%BC%A4%EF%BC%A4%EF%BC%A2?year=2026&asOf=2026-03-15")
            .header(header::AUTHORIZATION, &admin)
            .body(Body::empty())
            .expect("request");
        let answer = send(routes(&app), full_width).await;
        assert_eq!(answer.status, StatusCode::OK, "{:.300}", answer.text);
        assert_eq!(
            answer.headers[header::CONTENT_DISPOSITION],
            "attachment; filename=\"learnmap-DDB-2026.csv\"; filename*=UTF-8''learnmap-DDB-2026.csv"
        );

        let not_text = Request::get("/reports/units/%FF?year=2026").header(header::AUTHORIZATION, &admin).body(Body::empty()).expect("request");
        let answer = send(routes(&app), not_text).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.json(), json!({ "errors": [{
            "message": "the unit code in the path is not UTF-8 text once percent-decoded",
            "extensions": { "code": "BAD_USER_INPUT" }
        }] }));
    }
}

db_test! {
    async fn unknown_routes_and_methods_answer_in_the_graphql_shape(app) {
        let answer = send(routes(&app), Request::get("/report/units/DDB").body(Body::empty()).expect("request")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert!(answer.text.starts_with(r#"{"errors":[{"message":"/report/units/DDB is not"#), "in GraphQL's key order: {}", answer.text);
        assert_eq!(answer.json(), json!({ "errors": [{
            "message": "/report/units/DDB is not a route of learnmap; use /graphql, /reports/units/{code}, /healthz, /readyz or /metrics",
            "extensions": { "code": "NOT_FOUND" }
        }] }));

        let post = Request::post("/reports/units/DDB?year=2026").body(Body::empty()).expect("request");
        let answer = send(routes(&app), post).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(answer.json(), json!({ "errors": [{
            "message": "POST is not accepted here; see the Allow header",
            "extensions": { "code": "BAD_USER_INPUT" }
        }] }));
        assert_eq!(answer.headers[header::ALLOW], "GET,HEAD");
    }
}

#[test]
fn with_two_keys_a_token_must_name_its_key() {
    let two = json!({ "keys": [
        { "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "idp-1", "n": IDP_N, "e": "AQAB" },
        { "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "idp-2", "n": OTHER_N, "e": "AQAB" },
        { "kty": "RSA", "use": "enc", "kid": "idp-enc", "n": OTHER_N, "e": "AQAB" },
        { "kty": "EC", "crv": "P-256", "kid": "ec", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" }
    ] });
    let keys = Keys::parse(&two.to_string()).expect("jwks");
    assert_eq!(keys.len(), 2, "the RSA signing keys only");
    let verifier = Verifier::new("learnmap", "learnmap").with_keys(keys);
    assert!(verifier.verify(&rs256(IDP_KEY, Some("idp-1"), &claims("E1"))).is_ok());
    assert!(verifier.verify(&rs256(OTHER_KEY, Some("idp-2"), &claims("E1"))).is_ok());
    assert!(
        verifier
            .verify(&rs256(OTHER_KEY, Some("idp-1"), &claims("E1")))
            .is_err()
    );
    assert!(
        verifier.verify(&rs256(IDP_KEY, None, &claims("E1"))).is_err(),
        "which key?"
    );
}

db_test! {
    async fn a_mutation_over_get_is_refused_and_runs_nothing(app) {
        let admin = bearer(&token("E10001", true));
        let get = |query: &str| {
            Request::get(format!("/graphql?query={}", urlencode(query)))
                .header(header::AUTHORIZATION, admin.as_str())
                .body(Body::empty())
                .expect("request")
        };

        for mutation in [
            r#"mutation { archiveCourse(id: "1") { id } }"#,
            r#"mutation Archive { archiveCourse(id: "1") { id } }"#,
        ] {
            let answer = send(routes(&app), get(mutation)).await;
            assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{}", answer.text);
            assert_eq!(answer.headers[header::ALLOW], "POST");
            assert_eq!(answer.code(), "BAD_USER_INPUT");
        }

        let answer = send(routes(&app), get(r#"query Read { course(id: "1") { archivedAt } }"#)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.json(), json!({ "data": { "course": { "archivedAt": null } } }));

        let audit = app.data("{ auditLog(first: 1, filter: { action: \"archiveCourse\" }) { totalCount } }", json!({})).await;
        assert_eq!(audit["auditLog"]["totalCount"], json!(0));
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
