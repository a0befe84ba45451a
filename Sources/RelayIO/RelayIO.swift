import CRelayIO
