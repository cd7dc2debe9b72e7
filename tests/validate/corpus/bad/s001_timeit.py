# expect: S001 line 2
import timeit

timeit.timeit('import os')
