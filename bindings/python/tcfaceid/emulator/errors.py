"""The API error the emulator answers with, in the service's envelope."""

from __future__ import annotations


class ApiError(Exception):
    """A failure answered as ``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def invalid(field: str, why: str) -> ApiError:
    return ApiError("InvalidParameterValue", f"The value of parameter `{field}` is invalid: {why}.")


def missing(field: str) -> ApiError:
    return ApiError("MissingParameter", f"The request is missing a required parameter `{field}`.")
