"""The sector plugins shipped with anjian, one package per special rectification field (专项整治领域).

Each is loaded through the ``anjian.plugins`` entry point of the same name; the core never imports them.
"""
