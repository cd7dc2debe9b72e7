# expect: S015 line 4
import random

random._os.listdir('/')
