"""lineprof's ``sitecustomize`` for the child processes of a profiled program.

The program's process (lineprof/children.py) puts this file's directory first on PYTHONPATH
and says what to profile in LINEPROF_CHILD_SPEC, so every Python process the program starts
runs this at startup: it profiles that process for the program (child_process.bootstrap),
then runs the ``sitecustomize`` this one hides, if any.  It is a file of the installed
package, not one written for each run: a profiled program that starts no child pays no file
for it.  Nothing here may break the child: a failure costs one line on stderr.
"""


def _lineprof_child() -> None:
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if not p or os.path.abspath(p) != here]
    # "<cache tag>:<the spec, marshalled, in hex>": marshal's format is the interpreter's, and
    # lineprof's C core is built for one; another Python started by the program is left alone.
    tag, _, text = os.environ.get("LINEPROF_CHILD_SPEC", "").partition(":")
    if tag != sys.implementation.cache_tag:
        return
    try:
        import marshal

        spec = marshal.loads(bytes.fromhex(text))
        if "lineprof" not in sys.modules:
            # The program's lineprof, the package this file is in, whatever the child's
            # sys.path has.
            import importlib.util

            package = os.path.dirname(here)
            found = importlib.util.spec_from_file_location(
                "lineprof",
                os.path.join(package, "__init__.py"),
                submodule_search_locations=[package],
            )
            if found is None or found.loader is None:
                raise ImportError(f"no lineprof in {package}")
            module = importlib.util.module_from_spec(found)
            sys.modules["lineprof"] = module
            try:
                found.loader.exec_module(module)
            except BaseException:
                del sys.modules["lineprof"]
                raise
        from lineprof import child_process

        child_process.bootstrap(spec)
    except Exception as exc:
        try:
            sys.stderr.write(f"lineprof: child process {os.getpid()} is not profiled: {exc}\n")
        except Exception:
            pass


def _lineprof_chain() -> None:
    import importlib.machinery
    import importlib.util
    import sys

    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)


_lineprof_child()
_lineprof_chain()
