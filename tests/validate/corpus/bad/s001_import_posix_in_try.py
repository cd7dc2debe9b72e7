# expect: S001 line 3
try:
    import posix
except ImportError:
    posix = None
