//! The fault-injecting proxy as a process, for the local stack: `fault-proxy http://127.0.0.1:PORT`
//! listens on a free port of 127.0.0.1 (or `--port N`), prints its URL on the first line of stdout, and
//! forwards to the given upstream until killed. Rules are set over HTTP at `/__faults`.

use snapmgmt_testkit::fault_proxy;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (upstream, port) = match args.as_slice() {
        [upstream] => (upstream.clone(), 0),
        [upstream, flag, port] if flag == "--port" => (upstream.clone(), port.parse().expect("--port: a number")),
        _ => {
            eprintln!("usage: fault-proxy http://127.0.0.1:PORT [--port N]");
            std::process::exit(2);
        }
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind the proxy");
    println!("http://{}", listener.local_addr().expect("proxy address"));
    fault_proxy::serve(listener, fault_proxy::upstream_addr(&upstream), Default::default()).await;
}
