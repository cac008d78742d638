"""moto's server with one request applied at a time.

moto 5.2.5 applies a conditional write or a TransactWriteItems without a lock while its server
serves requests on threads, so two concurrent requests can both pass a condition that only one
should (and a failed transaction's rollback can undo another's commit). DynamoDB applies each
request atomically. Serialising requests restores that guarantee, so the conformance suite can pin
concurrency on moto as on the other backends. Connections stay threaded; only the application
of a request is serialised.

usage: moto_serial.py HOST PORT
"""
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialised(environ, start_response):
    with lock:
        # Materialise the body inside the lock: the write happens while the response is built.
        return list(app(environ, start_response))


if __name__ == "__main__":
    run_simple(sys.argv[1], int(sys.argv[2]), serialised, threaded=True, request_handler=MotoRequestHandler)
