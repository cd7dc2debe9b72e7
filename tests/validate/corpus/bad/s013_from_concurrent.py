# expect: S013 line 2
from concurrent.futures import ThreadPoolExecutor
