/// The prediction server: registered model versions answered over HTTP (Hummingbird),
/// with schema checks, bearer auth, body limits, traffic splits and shadows, a request log
/// written to the store off the request path, Prometheus metrics and drift scores.
enum MLShServe {}
