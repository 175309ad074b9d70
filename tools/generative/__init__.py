"""Generators (VAE, GAN, DDPM/DDIM), the inversion editor and anomaly detection."""
