"""hippo"""
