"""tcfaceid: a client for Tencent Cloud FaceID (API 2018-03-01).

The native client (C core with this Python binding) is being built; today the
package ships the local FaceID emulator, :mod:`tcfaceid.emulator`.
"""

__version__ = "0.1.0"
