import RelayCore
print("relayd")
