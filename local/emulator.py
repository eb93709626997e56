#!/usr/bin/env python3
"""The local AWS emulator: moto server with snapmgmt's extension, bound to 127.0.0.1.

Prints its endpoint (http://127.0.0.1:PORT) as the first line of standard output. With --port 0 (the
default) the operating system picks a free port. With --exit-with-stdin it stops when its standard
input closes, so a test process that started it never leaves it behind.
"""

import argparse
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_ext  # noqa: E402

moto_ext.install()

from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--endpoint-file", help="also write the endpoint to this file")
    parser.add_argument("--lambda-endpoint", help="where Step Functions invokes Lambda functions (cargo lambda watch)")
    parser.add_argument("--exit-with-stdin", action="store_true", help="stop when standard input closes")
    args = parser.parse_args()

    if args.lambda_endpoint:
        os.environ[moto_ext.lambda_functions.ENDPOINT_VARIABLE] = args.lambda_endpoint

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    endpoint = f"http://127.0.0.1:{server.port}"
    os.environ["MOTO_PORT"] = str(server.port)
    if args.endpoint_file:
        with open(args.endpoint_file, "w") as f:
            f.write(endpoint + "\n")
    print(endpoint, flush=True)

    if args.exit_with_stdin:

        def watch_stdin() -> None:
            sys.stdin.read()
            os._exit(0)

        threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
