// The package entry point (`import … from 'elb-proxy-echo'`): the PROXY protocol library.
export * from './protocol/index.ts';
