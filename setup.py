"""Build script: compiles minikv/_core.pyx when it can, else installs pure Python.

The compiled core is an accelerator, never a requirement. If Cython or a C
compiler is missing, or cythonizing/compiling fails, the package installs
without it and minikv.BACKEND reports "pure". CI notices such a fallback:
it sets MINIKV_EXPECT_BACKEND=compiled for the compiled run.

A failed build also deletes the ``minikv/_core*.so`` an earlier editable
install or ``build_ext --inplace`` left in the source tree (and in build/):
otherwise the checkout would go on importing a core that no longer matches
``_core.pyx``, and a test run would pass against stale code. A successful
in-place build unlinks the old file before copying the new one in, so an
interpreter that has the old one loaded keeps its (still valid) mapping
instead of seeing it rewritten underneath it.

There is deliberately no build-time switch. ``MINIKV_PURE=1`` is read at
*import* time by minikv/backend.py, and the test runner sets it on the very
package it installed, to test the pure twin next to the compiled one; if the
build honoured it too, installing with it set would silently leave no
extension to test. To run pure, set ``MINIKV_PURE=1`` when importing.
"""
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class OptionalBuildExt(build_ext):
    """Cythonize and compile the core; a failure means "use the pure twin"."""

    def run(self):
        try:
            # Cythonize here, not when setup.py is imported, so that every
            # failure (a missing Cython included) lands in the same handler.
            # Compiler directives live in the .pyx header, so that a bare
            # ``cythonize -i minikv/_core.pyx`` builds the same module.
            from Cython.Build import cythonize

            # cythonize returns new Extension objects; keep setuptools' own
            # (finalize_options annotated them) and take the C sources.
            for ext, cythonized in zip(self.extensions, cythonize(self.extensions, quiet=True)):
                ext.sources = cythonized.sources
            super().run()
        except Exception as exc:  # no Cython, no compiler, a compile error
            self._skip(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._skip(exc)

    def copy_extensions_to_source(self):
        self._remove_outputs(os.path.join(ROOT, self.get_ext_filename(ext.name))
                             for ext in self.extensions)
        super().copy_extensions_to_source()

    def _skip(self, exc):
        print(f"minikv: compiled core not built ({exc}); using pure Python")
        self._remove_outputs(os.path.join(root, self.get_ext_filename(ext.name))
                             for ext in self.extensions for root in (self.build_lib, ROOT))

    @staticmethod
    def _remove_outputs(paths):
        for path in paths:
            if os.path.exists(path):
                os.remove(path)


# optional=True: the in-place copy skips a build output that is not there.
setup(ext_modules=[Extension("minikv._core", ["minikv/_core.pyx"], optional=True)],
      cmdclass={"build_ext": OptionalBuildExt})
