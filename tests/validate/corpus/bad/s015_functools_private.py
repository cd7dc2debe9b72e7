# expect: S015 line 4
import functools

functools._lru_cache_wrapper
