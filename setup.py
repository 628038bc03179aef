"""Build and install the tcfaceid Python package (``pip install .``).

The package is the pure-Python front, the local FaceID emulator and the C extension
``tcfaceid._core``: the binding (``bindings/python/tcfaceid/_core.c``) compiled together with
every source of the C core (``csrc/src/*.c``) into one shared object that links libcurl,
jansson and libcrypto (found with pkg-config).

Environment switches (read at build time):
  TCFACEID_DEBUG=1   -O0 -g, asserts on, allocation-failure injection in the C core
                     (tcfaceid._core._fail_allocations_after)
  TCFACEID_ASAN=1    AddressSanitizer + UndefinedBehaviorSanitizer; run Python with
                     LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0
A build with other switches than the previous one in the same build directory recompiles
everything (``make python`` never leaves a stale sanitizer build in place).
"""

import hashlib
import os
import shlex
import shutil
import subprocess
from glob import glob

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

try:
    from setuptools.errors import PlatformError
except ImportError:  # setuptools < 59
    from distutils.errors import DistutilsPlatformError as PlatformError

# pkg-config module -> the Debian package that provides it
C_PACKAGES = {"libcurl": "libcurl4-openssl-dev", "jansson": "libjansson-dev", "libcrypto": "libssl-dev"}

# The project's warnings (csrc/build.mk). CPython's headers (3.9-3.13) compile cleanly with all
# of them, so _core.c gets the same set as the core.
WARNINGS = ["-Wall", "-Wextra", "-Wshadow", "-Wconversion", "-Wstrict-prototypes",
            "-Wmissing-prototypes", "-Wformat=2", "-Wvla", "-Werror"]
BASE_CFLAGS = ["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-fvisibility=hidden"]

CORE_SOURCES = sorted(glob("csrc/src/*.c"))
CORE_HEADERS = sorted(glob("csrc/include/*.h") + glob("csrc/src/*.h"))


def _switch(name):
    return os.environ.get(name, "").strip() not in ("", "0")


def _missing(what):
    apt = " ".join(["pkg-config", *C_PACKAGES.values()])
    return PlatformError(
        f"{what}.\nThe C extension tcfaceid._core needs pkg-config and the development files of "
        f"libcurl, jansson and OpenSSL. On Debian/Ubuntu: sudo apt-get install {apt}\n"
        "(or run 'make deps' from the repository root).")


def pkg_config():
    """(cflags, libs) of the C libraries, or a PlatformError naming the missing packages."""
    exe = shutil.which(os.environ.get("PKG_CONFIG", "pkg-config"))
    if exe is None:
        raise _missing("pkg-config was not found (Debian package: pkg-config)")
    missing = [name for name in C_PACKAGES
               if subprocess.run([exe, "--exists", name], capture_output=True).returncode != 0]
    if missing:
        raise _missing("pkg-config cannot find " + ", ".join(
            f"{name} (Debian package: {C_PACKAGES[name]})" for name in missing))

    def query(flag):
        out = subprocess.run([exe, flag, *C_PACKAGES], capture_output=True, text=True)
        if out.returncode != 0:
            raise _missing(f"pkg-config {flag} failed: {out.stderr.strip()}")
        return shlex.split(out.stdout)

    return query("--cflags"), query("--libs")


class BuildExt(build_ext):
    """build_ext that asks pkg-config for the C libraries' flags and applies the build switches."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:  # the core is a dozen files: compile them in parallel
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        cflags, libs = pkg_config()
        compile_args = BASE_CFLAGS + WARNINGS + cflags
        link_args = []
        if _switch("TCFACEID_DEBUG"):
            compile_args += ["-O0", "-g", "-UNDEBUG", "-DTCF_ALLOC_FAILURE_INJECTION"]
        if _switch("TCFACEID_ASAN"):
            sanitize = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
            compile_args += sanitize + ["-g"]
            link_args += sanitize
        # Export nothing but PyInit__core (the core's tcf_* functions are TCF_API = default
        # visibility in its header): a version script makes them local to the extension.
        os.makedirs(self.build_temp, exist_ok=True)
        script = os.path.join(self.build_temp, "tcfaceid-core.map")
        with open(script, "w", encoding="ascii") as f:
            f.write("{ global: PyInit__core; local: *; };\n")
        link_args.append("-Wl,--version-script=" + script)
        link_args += libs + ["-lpthread"]  # after the objects: extra_link_args come last
        for ext in self.extensions:
            ext.extra_compile_args = compile_args
            ext.extra_link_args = link_args
        # Switching TCFACEID_DEBUG / TCFACEID_ASAN (or the libraries' flags) must rebuild
        # everything, even when no source changed.
        flavour = hashlib.sha256(repr((compile_args, link_args)).encode()).hexdigest()
        stamp = os.path.join(self.build_temp, "tcfaceid-flavour")
        try:
            with open(stamp, encoding="ascii") as f:
                previous = f.read().strip()
        except OSError:
            previous = None
        if previous is not None and previous != flavour:
            self.force = True
        super().build_extensions()
        with open(stamp, "w", encoding="ascii") as f:
            f.write(flavour + "\n")


setup(
    name="tcfaceid",
    version="0.1.0",
    description="Client for Tencent Cloud FaceID (人脸核身) with a local emulator of the service",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.9",
    package_dir={"": "bindings/python"},
    packages=find_packages("bindings/python"),
    package_data={"tcfaceid": ["py.typed", "*.pyi"], "tcfaceid.emulator": ["api_data.json"]},
    ext_modules=[
        Extension(
            "tcfaceid._core",
            sources=["bindings/python/tcfaceid/_core.c", *CORE_SOURCES],
            include_dirs=["csrc/include", "csrc/src"],
            depends=CORE_HEADERS,
        )
    ],
    cmdclass={"build_ext": BuildExt},
    entry_points={"console_scripts": ["tcfaceid-emulator = tcfaceid.emulator.__main__:main",
                                     "tcfaceid = tcfaceid.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: C",
        "Topic :: Software Development :: Testing",
    ],
)
