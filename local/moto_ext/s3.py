"""S3's conditional writes, atomic as S3 makes them: moto checks a PutObject's If-Match or If-None-Match and
then writes, and two requests on the server's threads can both pass the check before either writes (each
then wins, where S3 answers the second 412 Precondition Failed). The run reports' ledger relies on S3's
answer, so every conditional PutObject here checks and writes under one lock."""

import threading

from moto.s3 import responses

_conditional_writes = threading.Lock()


def install() -> None:
    put_object = responses.S3Response.put_object

    def put_object_atomically(self):
        if self.headers.get("If-Match") is None and self.headers.get("If-None-Match") is None:
            return put_object(self)
        with _conditional_writes:
            return put_object(self)

    responses.S3Response.put_object = put_object_atomically
