from ._core import AuthError as AuthError
from ._core import ClockSkewError as ClockSkewError
from ._core import CredentialsError as CredentialsError
from ._core import CryptoError as CryptoError
from ._core import Error as Error
from ._core import HTTPError as HTTPError
from ._core import InvalidArgumentError as InvalidArgumentError
from ._core import InvalidParameterError as InvalidParameterError
from ._core import JSONError as JSONError
from ._core import ServiceError as ServiceError
from ._core import StateError as StateError
from ._core import ThrottledError as ThrottledError
from ._core import TimeoutError as TimeoutError
from ._core import TLSError as TLSError
from ._core import TokenExpiredError as TokenExpiredError
from ._core import TransportError as TransportError
from .client import Client as Client
from .client import PreparedRequest as PreparedRequest
from .client import parse as parse
from .client import sign as sign

__version__: str
