"""One place where the extension's checks run on each request, before moto authorizes and handles it."""


def before_action(check) -> None:
    """Runs `check(response, operation, service)` on every request moto answers through BaseResponse; a check
    refuses a request by raising an HTTPException. Each check installed runs before the ones installed earlier."""
    from moto.core.responses import BaseResponse

    original = BaseResponse._authenticate_and_authorize_normal_action

    def checked(self, resource="*"):
        check(self, self._get_action(), self.service_name or "")
        return original(self, resource)

    BaseResponse._authenticate_and_authorize_normal_action = checked
