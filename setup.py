"""Build and install the tcfaceid Python package (``pip install .``).

Today the package is pure Python (the FaceID emulator); the C extension
``tcfaceid._core`` joins it with the Python binding.
"""

from setuptools import find_packages, setup

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
    package_data={"tcfaceid.emulator": ["api_data.json"]},
    entry_points={"console_scripts": ["tcfaceid-emulator = tcfaceid.emulator.__main__:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Software Development :: Testing",
    ],
)
