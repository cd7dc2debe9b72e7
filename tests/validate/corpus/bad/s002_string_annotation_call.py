# expect: S002 line 3
class Config:
    token: "__import__('os').getenv('TOKEN')"
