# expect: S006 line 4
import functools

functools.reduce(getattr, ['x'], object)
