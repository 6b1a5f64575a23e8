//! Accepting connections, with the limits a listener open to strangers needs: a client that
//! sends half a request is dropped when the header timeout passes, a body that trickles in is
//! cut off at the body timeout, and at most `max_connections` are open at once (the next ones
//! wait in the kernel's accept queue), so slow or many clients cannot hold the server's memory
//! or its file descriptors for as long as they like.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long clients may take, and how many may be connected at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// From the connection's start (or the end of the previous response) to the end of the
    /// request's headers.
    pub header_timeout: Duration,
    /// To receive a request's whole body.
    pub body_timeout: Duration,
    /// Connections open at once; more wait to be accepted.
    pub max_connections: usize,
    /// How long a stop waits for requests in flight before it closes what is left.
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> ServeLimits {
        ServeLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 4_096,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then lets requests
/// in flight finish (for at most `limits.shutdown_grace`).
pub(crate) async fn serve_within(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was taken:
                    // wait a moment rather than spin, and go on.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = stream;
        let _ = stream.set_nodelay(true);
        // Every request learns its client's address, for the limits per address.
        let service = TowerToHyperService::new(closing_unread(
            app.clone().layer(axum::Extension(ConnectInfo(peer))),
        ));
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout);
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let handshake_timeout = limits.header_timeout;
        tokio::spawn(async move {
            // A client that goes away or times out ends its connection; nothing to report.
            match tls {
                None => {
                    let _ = watcher
                        .watch(http.serve_connection(TokioIo::new(stream), service))
                        .await;
                }
                Some(tls) => {
                    // The handshake is bounded like the headers: a client that opens a
                    // connection and says nothing holds it for no longer.
                    let accepted =
                        tokio::time::timeout(handshake_timeout, tls.acceptor.accept(stream)).await;
                    if let Ok(Ok(stream)) = accepted {
                        let _ = watcher
                            .watch(http.serve_connection(TokioIo::new(stream), service))
                            .await;
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("requests were still running when the stop's grace period ended");
        },
    }
    Ok(())
}

/// Serves `app` so that a connection whose request body the handler left unread is closed
/// with `Connection: close` on its response: hyper cannot reuse such a connection, and a client
/// that pools connections would otherwise send its next request into a closed socket.
fn closing_unread(
    app: Router,
) -> impl tower::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<axum::response::Response, std::convert::Infallible>> + Send,
> + Clone {
    tower::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let app = app.clone();
        async move {
            use http_body::Body as _;
            use tower::ServiceExt as _;
            let unread = Arc::new(std::sync::atomic::AtomicBool::new(
                !request.body().is_end_stream(),
            ));
            let request = request.map(|body| {
                axum::body::Body::new(TrackedBody {
                    body,
                    unread: unread.clone(),
                })
            });
            let mut response = app.oneshot(request).await?;
            if unread.load(std::sync::atomic::Ordering::Acquire) {
                response.headers_mut().insert(
                    axum::http::header::CONNECTION,
                    axum::http::HeaderValue::from_static("close"),
                );
            }
            Ok(response)
        }
    })
}

/// A request body that notes when it has been read to its end.
struct TrackedBody {
    body: hyper::body::Incoming,
    unread: Arc<std::sync::atomic::AtomicBool>,
}

impl http_body::Body for TrackedBody {
    type Data = bytes::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, hyper::Error>>> {
        let polled = std::pin::Pin::new(&mut self.body).poll_frame(cx);
        let ended = matches!(polled, std::task::Poll::Ready(None)) || self.body.is_end_stream();
        if ended {
            self.unread
                .store(false, std::sync::atomic::Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// TLS terminated by the server itself (rustls with ring; TLS 1.2 and 1.3, HTTP/1.1), for a
/// deployment without a proxy in front.
#[derive(Clone)]
pub struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

impl Tls {
    /// The certificate chain (leaf first) and its private key, from PEM files. Each problem is
    /// named with the file and what to do.
    pub fn from_pem_files(cert: &std::path::Path, key: &std::path::Path) -> Result<Tls, String> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};

        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| format!("cannot read the certificate file {}: {e}", cert.display()))?
            .collect::<Result<_, _>>()
            .map_err(|e| {
                format!(
                    "the certificate file {} is not PEM ({e}); give the certificate chain as \
                     -----BEGIN CERTIFICATE----- blocks, the server's own first",
                    cert.display()
                )
            })?;
        if chain.is_empty() {
            return Err(format!(
                "the certificate file {} holds no certificate; give the chain as -----BEGIN \
                 CERTIFICATE----- blocks, the server's own first",
                cert.display()
            ));
        }
        let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
            format!(
                "cannot read a private key from {} ({e}); give a PEM file with one -----BEGIN \
                 PRIVATE KEY----- (PKCS#8), RSA or EC key",
                key.display()
            )
        })?;
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS cannot be set up: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|e| {
                format!(
                    "the key in {} does not fit the certificate in {} ({e}); give the key the \
                     certificate was issued for",
                    key.display(),
                    cert.display()
                )
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)),
        })
    }
}
