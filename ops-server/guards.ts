import type { NextFunction, Request, Response } from 'express';
import { forbidden } from '../core/index.ts';
import type { Role } from './users.ts';

type Handler = (req: Request, res: Response) => Promise<unknown> | unknown;

/** Wraps a handler so a thrown error or a rejected promise reaches the one error handler. */
export const route = (fn: Handler) => (req: Request, res: Response, next: NextFunction) => {
  Promise.resolve()
    .then(() => fn(req, res))
    .catch(next);
};

/** Lets the request through only for these roles; checked on the server for every route. */
export const requireRole =
  (...roles: Role[]) =>
  (req: Request, _res: Response, next: NextFunction) =>
    req.session && roles.includes(req.session.role) ? next() : next(forbidden());
