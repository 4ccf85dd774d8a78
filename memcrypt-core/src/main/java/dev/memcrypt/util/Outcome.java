package dev.memcrypt.util;

public interface Outcome { String outcomeName(); }
