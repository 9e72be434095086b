// What each client does after a verified echo (the generator's head comment says how):
// pingpong the next line at once, hold the next line after a pause, connect a new connection.
export type Scenario = 'pingpong' | 'connect' | 'hold';
