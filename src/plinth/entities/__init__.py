"""Domain objects shared by stores, services, the server and the client.

This package imports nothing else from plinth: it is the ground floor.
"""
