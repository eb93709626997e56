"""snapmgmt's extension of moto: what the emulator lacks for snapmgmt, built on moto's own models.

Nothing here fakes the AWS wire: requests still go through moto's own parsers, backends and
serialisers. The patches add the fields and behaviour that the real services have and moto leaves out,
and a few test-control routes under /moto-api/snapmgmt/ (like moto's own /moto-api/ routes) that let a
test set what it cannot set through AWS (a backup's age, the outcome of the next backup).
"""

from . import (
    async_invoke,
    backup,
    control,
    ebs,
    ec2,
    fsx,
    iam,
    lambda_functions,
    s3,
    sfn,
    ssm,
    throttle,
    validation,
    volumes,
)

_installed = False


def install() -> None:
    """Applies every patch once; call before the server handles its first request."""
    global _installed
    if _installed:
        return
    fsx.install()
    ec2.install()
    ebs.install()
    volumes.install()
    ssm.install()
    backup.install()
    s3.install()
    lambda_functions.install()
    async_invoke.install()
    sfn.install()
    control.install()
    iam.install()
    iam.install_engine()
    # After IAM's hook, so that they wrap it: a request is throttled, then validated, then authorized.
    validation.install()
    throttle.install()
    throttle.install_reset()
    _installed = True
