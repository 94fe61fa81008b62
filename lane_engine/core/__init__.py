"""The sans-IO lane core: frames and time in, frames to send and events out."""
