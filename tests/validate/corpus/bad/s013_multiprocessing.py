# expect: S013 line 2
import multiprocessing
