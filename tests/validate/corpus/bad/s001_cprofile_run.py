# expect: S001 line 2
import cProfile

cProfile.run('import os')
