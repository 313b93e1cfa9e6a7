"""Strawberry types over the domain models, one module per domain area.

geography (区/街道/社区/小区/楼栋), party (支部/党员/支委/党小组), partners (物业/业委会/
共建单位/协议), work (阵地/活动/微信群/联席会议) and requests (居民诉求). ``refs`` holds
lazy references so the modules can point at each other; ``record`` the shared fields.
"""
