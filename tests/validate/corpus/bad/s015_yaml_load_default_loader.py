# expect: S015 line 4
import yaml

yaml.load('x', Loader=None)
