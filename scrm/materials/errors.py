"""The one error a material send raises: its message is shown to the guide as is."""


class MaterialSendError(Exception):
    """A send that cannot go ahead; `message` is shown to the guide as is, `status` is the HTTP answer."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
