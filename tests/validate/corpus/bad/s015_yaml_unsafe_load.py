# expect: S015 line 4
import yaml

yaml.unsafe_load('!!python/object/apply:os.system [id]')
