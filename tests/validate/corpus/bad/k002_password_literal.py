# expect: K002 line 3
class Cfg:
    password = 'hunter2-prod'
